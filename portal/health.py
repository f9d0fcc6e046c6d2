"""Liveness and readiness for orchestrators (Kubernetes probes, ECS/ALB health checks).

``/healthz``: the process serves requests. ``/readyz``: it can also reach what it needs —
Django's database, the orders table and the topic — each with short timeouts, so a probe never
hangs. Answers name each check and whether it passed, never the error's details.
``python manage.py check_ready`` runs the same checks for workers (exec probe), plus their queue,
and in an event relay's container (the chart and the ECS stack set ``EVENT_RELAY_GROUP`` there
and nowhere else) whether that relay is making progress: a relay that fails, hangs or reads a
stream the table no longer writes to still answers ``/metrics``, so only this tells.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from portal.container import probe_client, relay_progress_file, resources, topic_arn_for


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_table() -> None:
    """Both tables: the orders and the one beside them."""
    probe_client("dynamodb").describe_table(TableName=settings.ORDERS_TABLE_NAME)
    probe_client("dynamodb").describe_table(TableName=resources().side_table)


def check_topic() -> None:
    probe_client("sns").get_topic_attributes(TopicArn=topic_arn_for(probe_client("sts")))


def check_queue(name: str) -> Callable[[], None]:
    def check() -> None:
        probe_client("sqs").get_queue_url(QueueName=name)

    return check


class RelayStalled(Exception):
    """The event relay has made no progress for longer than EVENT_RELAY_STALL_SECONDS."""


def check_relay() -> None:
    """Fails while this container's relay has made no progress (a completed pass over its
    shards, or a published chunk) for EVENT_RELAY_STALL_SECONDS, or none at all yet."""
    try:
        idle = relay_progress_file().seconds_since_progress()
    except FileNotFoundError:
        idle = math.inf  # not started
    if idle == math.inf:
        raise RelayStalled("the relay has not completed a pass yet")
    if idle > settings.EVENT_RELAY_STALL_SECONDS:
        raise RelayStalled(f"the relay made no progress for {idle:.0f}s")


def in_relay_container() -> bool:
    """The relay's Deployment (Helm) and services (ECS) set EVENT_RELAY_GROUP, no other role."""
    return "EVENT_RELAY_GROUP" in os.environ


WEB_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "dynamodb": check_table,
    "sns": check_topic,
}
if in_relay_container():
    WEB_CHECKS["relay"] = check_relay


def run_checks(checks: dict[str, Callable[[], None]]) -> tuple[bool, dict[str, Any]]:
    results: dict[str, Any] = {}
    for name, check in checks.items():
        started = time.monotonic()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
            results[name] = {"ok": False, "error": type(exc).__name__}
        results[name]["ms"] = round((time.monotonic() - started) * 1000)
    return all(r["ok"] for r in results.values()), results


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    ready, results = run_checks(WEB_CHECKS)
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": results},
        status=200 if ready else 503,
    )


class HealthCheckMiddleware:
    """Answers the probes before anything else: orchestrators call them by pod or task IP,
    which is rightly not in ALLOWED_HOSTS, and a probe needs no session or CSRF work."""

    PROBES = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        probe = self.PROBES.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)

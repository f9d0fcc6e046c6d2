"""What operators and autoscalers see of a running portal: Prometheus metrics from every role
and JSON log lines that tie a request, an order, an event and a queue together — and never a
secret. The processes run through the image's entry point with LOG_FORMAT=json."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.factories import EXAMPLE
from tests.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def scrape(portal, process: str) -> dict[tuple[str, frozenset], float]:
    """Samples of one process's /metrics: (name, labels) -> value."""
    response = requests.get(f"http://127.0.0.1:{portal.metrics_ports[process]}/metrics", timeout=5)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def json_lines(portal, process: str) -> list[dict]:
    lines = []
    for line in portal.processes.log(process).splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_every_role_exports_the_metrics_an_operator_needs(portal):
    received_queue = portal.aws.resources.queue_name("received")
    before_web = scrape(portal, "web")
    before_worker = scrape(portal, "worker-received")

    created = portal.post_order({**EXAMPLE, "external_reference": f"M-{uuid.uuid4().hex[:8]}"})
    portal.wait_for_status(created["id"], "scheduled")

    def worker_counted():
        samples = scrape(portal, "worker-received")
        handled = value(samples, "portal_tasks_total", queue=received_queue, outcome="handled")
        return (
            samples
            if handled
            > value(before_worker, "portal_tasks_total", queue=received_queue, outcome="handled")
            else None
        )

    worker = wait_for(worker_counted, timeout=10, what="the received worker's task count")
    assert value(worker, "portal_task_duration_seconds_count", queue=received_queue) >= 1
    assert (
        value(
            worker, "portal_order_transitions_total", from_status="received", to_status="accepted"
        )
        >= 1
    )

    web = scrape(portal, "web")
    # Summed over gunicorn's worker processes by the master (multiprocess mode).
    posted = dict(route="/v1/orders", method="POST", status="201")
    assert value(web, "portal_http_requests_total", **posted) == (
        value(before_web, "portal_http_requests_total", **posted) + 1
    )
    assert (
        value(web, "portal_http_request_duration_seconds_count", route="/v1/orders", method="POST")
        >= 1
    )
    assert value(web, "portal_orders_created_total", actor_kind="integrator") >= 1
    # Routes are URL patterns, never order ids.
    assert not [key for key in web if created["id"] in str(key)]

    relay = scrape(portal, "relay")
    assert (
        value(relay, "portal_events_published_total", event_type="order.created", status="received")
        >= 1
    )
    assert (
        value(
            relay,
            "portal_events_published_total",
            event_type="order.status_changed",
            status="scheduled",
        )
        >= 1
    )
    assert ("portal_outbox_lag_seconds", frozenset()) in relay

    webhooks = scrape(portal, "webhooks")
    assert any(name.startswith("portal_webhook_deliveries") for name, _ in webhooks)


def test_logs_are_json_lines_that_follow_one_order_and_hide_the_api_key(portal):
    request_id = f"trace-{uuid.uuid4().hex[:12]}"
    response = requests.post(
        f"{portal.base_url}/v1/orders",
        json={**EXAMPLE, "external_reference": f"L-{uuid.uuid4().hex[:8]}"},
        headers={**portal.auth, "X-Request-ID": request_id},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == request_id
    order_id = response.json()["id"]
    portal.wait_for_status(order_id, "scheduled")
    # A refused key is logged by its prefix only.
    requests.get(
        f"{portal.base_url}/v1/orders",
        headers={"Authorization": f"Bearer {portal.key}x"},
        timeout=10,
    )

    def request_line():
        for line in json_lines(portal, "web"):
            if line.get("request_id") == request_id and line.get("logger") == "portal.request":
                return line
        return None

    line = wait_for(request_line, timeout=5, what="the request's log line")
    assert line["order_id"] == order_id
    assert line["route"] == "/v1/orders" and line["status"] == 201
    assert {"timestamp", "level", "message"} <= set(line)

    def worker_lines():
        lines = [
            entry
            for entry in json_lines(portal, "worker-received")
            if entry.get("order_id") == order_id
        ]
        return lines or None

    lines = wait_for(worker_lines, timeout=5, what="the received worker's lines for the order")
    assert all(entry["queue"] == portal.aws.resources.queue_name("received") for entry in lines)
    assert all(entry.get("event_id") for entry in lines)

    secret = portal.key.split("_", 2)[2]
    for process in ("web", "relay", "webhooks", "worker-received", "worker-accepted"):
        text = portal.processes.log(process)
        assert secret not in text, f"{process} logged an API key"
        not_json = [line for line in text.splitlines() if line and not line.startswith("{")]
        assert not not_json, f"{process} wrote lines that are not JSON: {not_json[:3]}"

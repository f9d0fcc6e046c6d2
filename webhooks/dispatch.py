"""The dispatcher: POSTs due deliveries, signed, and schedules retries.

Deliveries are rows in Django's database, so any number of dispatchers can run: each takes a
batch with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) and leases it by moving its next
attempt time ahead, then makes the attempts on a thread pool. A failed attempt is retried
after the next delay of the schedule (with jitter); when the schedule is used up the delivery
fails and its endpoint is disabled, with the reason, until someone enables it again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import urllib3
from django.db import close_old_connections, transaction
from django.utils import timezone

from portal import metrics
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from . import signing
from .locking import claim
from .targets import UnsafeTarget, parse_target, resolve

log = logging.getLogger(__name__)

USER_AGENT = "work-order-portal-webhooks/1"
#: Structured-mode CloudEvents: the body is the whole event, so CloudEvents SDKs parse it.
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EXCERPT = 500


@dataclass(frozen=True)
class DispatchSettings:
    #: Seconds to wait after each failed attempt (the first attempt is immediate).
    schedule: tuple[int, ...]
    timeout_seconds: float = 5.0
    concurrency: int = 8
    allow_private_urls: bool = False
    lease_seconds: int = 60
    jitter: float = 0.2
    #: Finished deliveries older than this are pruned (None: kept forever).
    retention: timedelta | None = None
    prune_interval_seconds: float = 3600


def jittered(seconds: int, jitter: float) -> timedelta:
    return timedelta(seconds=seconds * random.uniform(1 - jitter, 1 + jitter))


class _EndpointLockNeeded(Exception):
    """The attempt turned out to disable the endpoint, which it had not locked first."""


class Dispatcher:
    def __init__(
        self,
        settings: DispatchSettings,
        *,
        http: urllib3.PoolManager | None = None,
        now: Callable[[], datetime] = timezone.now,
    ):
        self.settings = settings
        self.http = http or urllib3.PoolManager(num_pools=50, maxsize=settings.concurrency)
        self.now = now

    def run(self, stop: threading.Event, *, idle_seconds: float) -> None:
        next_prune = time.monotonic()
        with ThreadPoolExecutor(self.settings.concurrency) as pool:
            while not stop.is_set():
                if self.settings.retention is not None and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + self.settings.prune_interval_seconds
                    self.prune()
                try:
                    handled = self.run_once(pool)
                except Exception:  # noqa: BLE001 - keep dispatching; leases expire by themselves
                    log.exception("webhook dispatch failed")
                    handled = 0
                if not handled:
                    stop.wait(idle_seconds)

    def prune(self) -> int:
        """Delete finished deliveries past their retention (``webhooks.retention``)."""
        from webhooks.retention import prune

        try:
            return prune(older_than=self.settings.retention, now=self.now())
        except Exception:  # noqa: BLE001 - pruning is housekeeping; delivering goes on
            log.exception("pruning old webhook deliveries failed")
            return 0

    def run_once(self, pool: ThreadPoolExecutor | None = None) -> int:
        due = self.lease_due(limit=self.settings.concurrency * 4)
        if pool is None:
            for delivery_id in due:
                self.attempt(delivery_id)
        else:
            list(pool.map(self._attempt_in_thread, due))
        return len(due)

    def _attempt_in_thread(self, delivery_id: int) -> None:
        close_old_connections()
        try:
            self.attempt(delivery_id)
        finally:
            close_old_connections()

    def lease_due(self, *, limit: int) -> list[int]:
        now = self.now()
        with transaction.atomic():
            ids = list(
                WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    state=WebhookDelivery.PENDING,
                    next_attempt_at__lte=now,
                    endpoint__disabled_at__isnull=True,
                )
                .order_by("next_attempt_at")
                .values_list("id", flat=True)[:limit]
            )
            # Leased: another dispatcher skips them until the lease runs out.
            WebhookDelivery.objects.filter(id__in=ids).update(
                next_attempt_at=now + timedelta(seconds=self.settings.lease_seconds)
            )
        return ids

    def attempt(self, delivery_id: int) -> WebhookAttempt | None:
        """POST one delivery and record the outcome; None if it (or its endpoint) has been
        deleted meanwhile: there is nothing left to deliver or to log."""
        delivery = WebhookDelivery.objects.select_related("endpoint").filter(id=delivery_id).first()
        if delivery is None:
            return None
        endpoint = delivery.endpoint
        timestamp = int(time.time())
        headers = {
            "user-agent": USER_AGENT,
            "content-type": CONTENT_TYPE,
            **signing.headers(endpoint.secret, delivery.event_id, timestamp, delivery.payload),
        }
        started = time.monotonic()
        status_code, error, excerpt = None, "", ""
        try:
            status_code, excerpt = self._post(endpoint.url, delivery.payload.encode(), headers)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except (urllib3.exceptions.HTTPError, UnsafeTarget, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        latency_ms = int((time.monotonic() - started) * 1000)
        return self._record(delivery, status_code, latency_ms, error, excerpt)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST to the address that was checked: the URL is parsed once and its host
        resolved once; the connection goes to that IP, with the name in the Host header and,
        for https, in SNI and the certificate check."""
        target = parse_target(url)
        addresses = resolve(target, allow_private=self.settings.allow_private_urls)
        tls = {"server_hostname": target.host, "assert_hostname": target.host}
        for i, address in enumerate(addresses):
            pool = self.http.connection_from_host(
                str(address),
                target.port,
                target.scheme,
                pool_kwargs=tls if target.scheme == "https" else None,
            )
            try:
                response = pool.urlopen(
                    "POST",
                    target.path,
                    body=body,
                    headers={**headers, "host": target.host_header},
                    timeout=urllib3.Timeout(total=self.settings.timeout_seconds),
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    preload_content=False,
                )
            except urllib3.exceptions.NewConnectionError:
                if i == len(addresses) - 1:
                    raise
                continue  # the next checked address of the same name
            try:
                excerpt = response.read(EXCERPT, decode_content=True).decode("utf-8", "replace")
            finally:
                response.release_conn()
            return response.status, excerpt
        raise AssertionError("resolve() returns at least one address")

    def _record(
        self,
        delivery: WebhookDelivery,
        status_code: int | None,
        latency_ms: int,
        error: str,
        excerpt: str,
    ) -> WebhookAttempt | None:
        """Log the attempt and schedule what follows, unless the delivery was deleted while
        it was being sent (its endpoint deleted): then there is nothing to record. Locks are
        taken in the order ``delete_endpoint`` takes them (endpoint, then delivery)."""
        now = self.now()
        succeeded = status_code is not None and 200 <= status_code < 300
        may_disable = not succeeded and delivery.schedule_step >= len(self.settings.schedule)
        record = partial(
            self._record_locked, delivery, status_code, latency_ms, error, excerpt, now
        )
        try:
            return record(lock_endpoint=may_disable)
        except _EndpointLockNeeded:
            # Another attempt moved the delivery on since it was read, and this one now
            # disables the endpoint: start again with the endpoint locked first (taking it
            # after the delivery could deadlock with an endpoint's delete).
            return record(lock_endpoint=True)

    def _record_locked(
        self,
        delivery: WebhookDelivery,
        status_code: int | None,
        latency_ms: int,
        error: str,
        excerpt: str,
        now: datetime,
        *,
        lock_endpoint: bool,
    ) -> WebhookAttempt | None:
        delivery_id = delivery.pk
        with transaction.atomic():
            # An attempt that may disable the endpoint locks it first.
            if lock_endpoint and not claim(WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)):
                return self._skip(delivery_id)
            rows = WebhookDelivery.objects.filter(pk=delivery_id)
            if not claim(rows):
                return self._skip(delivery_id)
            delivery = rows.select_related("endpoint").get()
            succeeded = status_code is not None and 200 <= status_code < 300
            if (
                not succeeded
                and not lock_endpoint
                and delivery.schedule_step >= len(self.settings.schedule)
            ):
                raise _EndpointLockNeeded  # rolls back: no lock is kept
            attempt = WebhookAttempt.objects.create(
                delivery=delivery,
                attempted_at=now,
                status_code=status_code,
                latency_ms=latency_ms,
                error=error,
                response_excerpt=excerpt[:EXCERPT],
            )
            metrics.WEBHOOK_LATENCY.observe(latency_ms / 1000)
            if attempt.succeeded:
                metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
                delivery.state = WebhookDelivery.SUCCEEDED
                delivery.delivered_at = now
                delivery.next_attempt_at = None
            elif delivery.schedule_step < len(self.settings.schedule):
                metrics.WEBHOOK_DELIVERIES.labels("failed").inc()
                wait = self.settings.schedule[delivery.schedule_step]
                delivery.next_attempt_at = now + jittered(wait, self.settings.jitter)
                delivery.schedule_step += 1
            else:
                metrics.WEBHOOK_DELIVERIES.labels("disabled").inc()
                delivery.state = WebhookDelivery.FAILED
                delivery.next_attempt_at = None
                self._disable(delivery.endpoint, delivery, error, now)
            delivery.save(
                update_fields=["state", "delivered_at", "next_attempt_at", "schedule_step"]
            )
        return attempt

    def _disable(
        self, endpoint: WebhookEndpoint, delivery: WebhookDelivery, error: str, now: datetime
    ) -> None:
        tries = delivery.attempts.count()
        endpoint.disabled_at = now
        endpoint.disabled_reason = (
            f"Disabled after event {delivery.event_id} failed {tries} times; last: {error}. "
            "Fix the receiver, then enable the endpoint and redeliver."
        )[:500]
        endpoint.save(update_fields=["disabled_at", "disabled_reason"])
        log.warning("webhook endpoint %s disabled: %s", endpoint.pk, endpoint.disabled_reason)

    @staticmethod
    def _skip(delivery_id: int) -> None:
        log.info("webhook delivery %s was deleted (with its endpoint) meanwhile", delivery_id)
        return None


def redeliver(delivery: WebhookDelivery) -> None:
    """Send again now, with a fresh retry schedule (the attempts so far stay in the log)."""
    delivery.state = WebhookDelivery.PENDING
    delivery.schedule_step = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["state", "schedule_step", "next_attempt_at"])


def enable(endpoint: WebhookEndpoint) -> None:
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.save(update_fields=["disabled_at", "disabled_reason"])

"""The dispatcher: POSTs due deliveries, signed, and schedules retries.

Deliveries are rows in Django's database, so any number of dispatchers can run: each takes due
deliveries with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) and leases them by moving
their next attempt time past the attempt's deadline, then makes the attempts on a thread pool.
It leases only as many as it has free threads, as soon as one is free, and at most an
endpoint's share for one endpoint: a slow receiver holds its own attempts (each cut at the
deadline, ``webhooks.sending``), never another endpoint's. A failed attempt is retried after
the next delay of the schedule (with jitter); when the schedule is used up the delivery fails
and its endpoint is disabled, with the reason, until someone enables it again.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import urllib3
from django.db import close_old_connections, transaction
from django.utils import timezone

from kernel import metrics
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from . import sending, signing
from .locking import claim
from .targets import UnsafeTarget, parse_target, resolve

log = logging.getLogger(__name__)

USER_AGENT = "work-order-portal-webhooks/1"
#: Structured-mode CloudEvents: the body is the whole event, so CloudEvents SDKs parse it.
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
EXCERPT = 500
#: What a lease gives an attempt beyond its deadline, to record the outcome.
LEASE_MARGIN_SECONDS = 30


@dataclass(frozen=True)
class DispatchSettings:
    #: Seconds to wait after each failed attempt (the first attempt is immediate).
    schedule: tuple[int, ...]
    #: The whole attempt's limit: connecting, sending, the response headers and its body.
    timeout_seconds: float = 5.0
    concurrency: int = 8
    #: Attempts one endpoint may have in flight at once in a dispatcher, so that a slow
    #: endpoint cannot take every thread. None: all but a quarter of ``concurrency`` (at least
    #: one thread always left to the other endpoints; 6 of 8), so one busy endpoint still gets
    #: most of the throughput while the others never wait for its slow attempts.
    endpoint_concurrency: int | None = None
    allow_private_urls: bool = False
    #: How long a leased delivery is left to its dispatcher; never less than an attempt's
    #: deadline plus ``LEASE_MARGIN_SECONDS``, so an attempt cannot outlive its lease.
    lease_seconds: int = 60
    jitter: float = 0.2
    #: Finished deliveries older than this are pruned (None: kept forever).
    retention: timedelta | None = None
    prune_interval_seconds: float = 3600

    @property
    def endpoint_share(self) -> int:
        if self.endpoint_concurrency:
            return self.endpoint_concurrency
        return max(1, self.concurrency - max(1, self.concurrency // 4))

    @property
    def lease(self) -> timedelta:
        return timedelta(
            seconds=max(self.lease_seconds, self.timeout_seconds + LEASE_MARGIN_SECONDS)
        )


def jittered(seconds: int, jitter: float) -> timedelta:
    return timedelta(seconds=seconds * random.uniform(1 - jitter, 1 + jitter))


class _EndpointLockNeeded(Exception):
    """The attempt turned out to disable the endpoint, which it had not locked first."""


class Dispatcher:
    def __init__(
        self,
        settings: DispatchSettings,
        *,
        now: Callable[[], datetime] = timezone.now,
    ):
        self.settings = settings
        self.now = now

    def run(self, stop: threading.Event, *, idle_seconds: float) -> None:
        """Deliver until ``stop`` is set. Deliveries are leased whenever a thread is free,
        never more than there are free threads (so each starts at once, within its lease),
        and an attempt that ends frees its thread for the next: no attempt waits for another
        one, however slow. Stopping lets the attempts in flight end (each by its deadline)."""
        next_prune = time.monotonic()
        running: dict[Future[None], int] = {}  # attempt in flight -> its endpoint
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="webhook") as pool:
            while not stop.is_set():
                if self.settings.retention is not None and time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + self.settings.prune_interval_seconds
                    self.prune()
                try:
                    started = self._start_due(pool, running)
                except Exception:  # noqa: BLE001 - keep dispatching; leases expire by themselves
                    log.exception("webhook dispatch failed")
                    started = 0
                if running:
                    # Until an attempt ends (its thread, maybe its endpoint's share, is free)
                    # or more deliveries may have come due.
                    done, _ = wait(running, timeout=idle_seconds, return_when=FIRST_COMPLETED)
                    self._forget(done, running)
                elif not started:
                    stop.wait(idle_seconds)
            wait(running)
            self._forget(set(running), running)

    def _start_due(self, pool: ThreadPoolExecutor, running: dict[Future[None], int]) -> int:
        free = self.settings.concurrency - len(running)
        if free <= 0:
            return 0
        leased = self._lease(limit=free, busy=Counter(running.values()))
        for delivery_id, endpoint_id in leased:
            running[pool.submit(self._attempt_in_thread, delivery_id)] = endpoint_id
        return len(leased)

    @staticmethod
    def _forget(done: Collection[Future[None]], running: dict[Future[None], int]) -> None:
        for future in done:
            del running[future]
            error = future.exception()
            if error is not None:  # the lease runs out and the delivery is attempted again
                log.error("webhook attempt failed", exc_info=error)

    def prune(self) -> int:
        """Delete finished deliveries past their retention (``webhooks.retention``)."""
        from webhooks.retention import prune

        try:
            return prune(older_than=self.settings.retention, now=self.now())
        except Exception:  # noqa: BLE001 - pruning is housekeeping; delivering goes on
            log.exception("pruning old webhook deliveries failed")
            return 0

    def run_once(self) -> int:
        """Attempt what is due now (up to four times the concurrency), one after another in
        this thread, each delivery once; each is leased just before its attempt, so none
        waits for its turn on a lease that could run out meanwhile."""
        attempted: list[int] = []
        while len(attempted) < self.settings.concurrency * 4:
            leased = self._lease(limit=1, skip=attempted)
            if not leased:
                break
            [(delivery_id, _)] = leased
            self.attempt(delivery_id)
            attempted.append(delivery_id)
        return len(attempted)

    def _attempt_in_thread(self, delivery_id: int) -> None:
        close_old_connections()
        try:
            self.attempt(delivery_id)
        finally:
            close_old_connections()

    def lease_due(self, *, limit: int, busy: Mapping[int, int] | None = None) -> list[int]:
        """Lease up to ``limit`` due deliveries (see :meth:`_lease`); their ids."""
        return [delivery_id for delivery_id, _ in self._lease(limit=limit, busy=busy)]

    def _lease(
        self,
        *,
        limit: int,
        busy: Mapping[int, int] | None = None,
        skip: Collection[int] = (),
    ) -> list[tuple[int, int]]:
        """Lease up to ``limit`` due deliveries, the longest due first, but no more of one
        endpoint than its share less its ``busy`` attempts (endpoint id -> attempts in
        flight): an endpoint's backlog never hides another endpoint's due deliveries. Leased,
        they are not due again until their attempt's deadline has long passed, so another
        dispatcher does not attempt them meanwhile. (delivery id, endpoint id) pairs."""
        share = self.settings.endpoint_share
        per_endpoint = Counter(busy or {})
        chosen: list[tuple[int, int]] = []
        now = self.now()
        with transaction.atomic():
            while len(chosen) < limit:
                full = [endpoint for endpoint, n in per_endpoint.items() if n >= share]
                wanted = limit - len(chosen)
                rows = list(
                    WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(
                        state=WebhookDelivery.PENDING,
                        next_attempt_at__lte=now,
                        endpoint__disabled_at__isnull=True,
                    )
                    .exclude(endpoint_id__in=full)
                    .exclude(id__in=[*skip, *(delivery_id for delivery_id, _ in chosen)])
                    .order_by("next_attempt_at")
                    .values_list("id", "endpoint_id")[:wanted]
                )
                for delivery_id, endpoint_id in rows:
                    if per_endpoint[endpoint_id] < share:
                        chosen.append((delivery_id, endpoint_id))
                        per_endpoint[endpoint_id] += 1
                if len(rows) < wanted:
                    break  # nothing else is due; otherwise look past the endpoints now full
            # Leased: another dispatcher skips them until the lease runs out.
            WebhookDelivery.objects.filter(id__in=[d for d, _ in chosen]).update(
                next_attempt_at=now + self.settings.lease
            )
        return chosen

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
            with sending.Deadline(self.settings.timeout_seconds) as deadline:
                status_code, excerpt = self._post(
                    endpoint.url, delivery.payload.encode(), headers, deadline
                )
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except sending.AttemptTimeout as exc:
            error = str(exc)[:EXCERPT]
        except (
            urllib3.exceptions.HTTPError,
            http.client.HTTPException,
            UnsafeTarget,
            OSError,
        ) as exc:
            error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        latency_ms = int((time.monotonic() - started) * 1000)
        return self._record(delivery, status_code, latency_ms, error, excerpt)

    def _post(
        self, url: str, body: bytes, headers: dict[str, str], deadline: sending.Deadline
    ) -> tuple[int, str]:
        """POST to the address that was checked: the URL is parsed once and its host
        resolved once; the connection goes to that IP, with the name in the Host header and,
        for https, in SNI and the certificate check. The lookup counts against the deadline
        (it cannot be cut short; the resolver's own timeouts bound it)."""
        target = parse_target(url)
        addresses = resolve(target, allow_private=self.settings.allow_private_urls)
        return sending.post(
            target, addresses, body, headers, deadline=deadline, excerpt_bytes=EXCERPT
        )

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

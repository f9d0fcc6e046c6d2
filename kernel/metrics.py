"""Prometheus metrics for every role, and the small HTTP server that exposes them.

Each process serves ``/metrics`` on ``METRICS_PORT`` (off when 0, the local default: ``make run``
starts a dozen processes on one host). gunicorn's worker processes share one port through
prometheus_client's multiprocess mode: ``portal.gunicorn_conf`` sets ``PROMETHEUS_MULTIPROC_DIR``
before any worker starts and serves the aggregate from the master process.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

log = logging.getLogger(__name__)

#: Seconds: API calls are tens of milliseconds; handlers and webhook posts up to seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by route pattern, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
NOTES_ADDED = Counter(
    "portal_order_notes_added",
    "Notes put on orders' timelines, by who wrote them and their visibility.",
    ["actor_kind", "visibility"],
)
ORDERS_CREATED = Counter(
    "portal_orders_created",
    "Orders stored in 'received', by who created them (integrator or staff).",
    ["actor_kind"],
)
ORDER_TRANSITIONS = Counter(
    "portal_order_transitions",
    "Orders moved, by the status they left and the status they reached.",
    ["from_status", "to_status"],
)
EVENTS_PUBLISHED = Counter(
    "portal_events_published",
    "Events the relay published to SNS, by type and status.",
    ["event_type", "status"],
)
OUTBOX_LAG = Gauge(
    "portal_outbox_lag_seconds",
    "Age of the newest stream record the relay has read when it last found work: how far "
    "publishing trails the table. 0 when the relay is idle and caught up.",
    multiprocess_mode="max",
)
FIGURES_COUNTED = Gauge(
    "portal_staff_figures_counted_timestamp_seconds",
    "Unix time the relay of group 0 last counted the staff's figures (orders per status, SLA "
    "breached and due soon: orders.figures). time() minus it past ADMIN_FIGURES_MAX_AGE_SECONDS "
    "means pages count for themselves again (slower): the count is failing.",
    multiprocess_mode="max",
)
RELAY_PROGRESS = Gauge(
    "portal_relay_last_progress_timestamp_seconds",
    "Unix time the relay of this group last made progress: completed a pass over its stream's "
    "shards or published a chunk of events (its start until the first). time() minus it is "
    "how long the relay has been stuck: failing, hung, or reading a stream it cannot use. "
    "Only relays export it (a series appears once the relay runs).",
    ["group"],
    multiprocess_mode="max",
)
OUTBOX_BATCH = Histogram(
    "portal_outbox_batch_records",
    "Stream records handled per relay read.",
    buckets=(0, 1, 5, 10, 50, 100, 500, 1000),
)
TASKS = Counter(
    "portal_tasks",
    "Events handled by the status workers, by queue and outcome (handled, dead-lettered, retried).",
    ["queue", "outcome"],
)
TASK_DURATION = Histogram(
    "portal_task_duration_seconds",
    "Time a status worker spent on one event, by queue.",
    ["queue"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "portal_webhook_deliveries",
    "Webhook delivery attempts by result (delivered, failed, disabled).",
    ["result"],
)
# Every result is exported from the start (at 0), so rates and alerts work before the first.
for _result in ("delivered", "failed", "disabled"):
    WEBHOOK_DELIVERIES.labels(_result)
WEBHOOK_LATENCY = Histogram(
    "portal_webhook_attempt_duration_seconds",
    "Time a webhook receiver took to answer.",
    buckets=LATENCY_BUCKETS,
)


PLAN_OCCURRENCES = Counter(
    "portal_plan_occurrences",
    "Maintenance plan occurrences the scheduler handled, by result (created: an order; "
    "already: its order existed, a run before crashed or another scheduler won; failed).",
    ["result"],
)
for _result in ("created", "already", "failed"):
    PLAN_OCCURRENCES.labels(_result)
SCHEDULER_LAST_RUN = Gauge(
    "portal_scheduler_last_run_timestamp_seconds",
    "When this scheduler last finished a pass over the due plans (Unix time).",
    multiprocess_mode="max",
)
PLANS_OVERDUE = Gauge(
    "portal_plans_overdue",
    "Active maintenance plans whose next order should have been created more than the "
    "scheduler's grace ago (0 while every scheduler keeps up).",
    multiprocess_mode="max",
)


def multiprocess_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def serve(port: int, *, registry: CollectorRegistry | None = None) -> Any:
    """Serve /metrics on ``port`` (each role passes its ``METRICS_PORT``) in a daemon
    thread; 0 = off."""
    if not port:
        return None
    if registry is None:
        registry = (
            multiprocess_registry() if os.environ.get("PROMETHEUS_MULTIPROC_DIR") else REGISTRY
        )
    server, _thread = start_http_server(
        port, addr=os.environ.get("METRICS_ADDR", "0.0.0.0"), registry=registry
    )
    log.info("serving metrics on port %s", port)
    return server

"""One Celery task per status queue. The transport turns each SQS message into a call of its
queue's task with the raw body; this module decides what happens to the message: parsed and
routed here, handled by the workers' pipeline (``orders.services.pipeline``), retried or
dead-lettered here."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.exceptions import Reject
from celery.signals import worker_init, worker_ready, worker_shutdown
from django.conf import settings

from kernel import log_context, metrics
from orders.domain.errors import OrderNotFound
from orders.domain.workflow import STATUSES, Status
from orders.events.contract import EventMismatch, MalformedEvent, parse_event
from portal.celery import app
from portal.container import order_services, status_queues
from workers.backlog import BacklogSweeper, serves_accepted
from workers.dead_letters import dead_letter
from workers.queues import task_name

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """The message can never succeed: dead-letter it now rather than retrying."""


def handle_delivery(status: str, body: str, delivery: dict[str, Any]) -> str:
    """Handle one delivery; returns the outcome, raises :class:`Reject` to retry later.

    Every log line written meanwhile names the queue, and the event and order once known."""
    queue = delivery.get("queue", status)
    started = time.perf_counter()
    outcome = "retried"
    with log_context.bind(queue=queue, event_id=None, order_id=None):
        try:
            outcome = _handle(status, body, delivery)
            return outcome
        finally:
            metrics.TASKS.labels(queue, outcome).inc()
            metrics.TASK_DURATION.labels(queue).observe(time.perf_counter() - started)


def _handle(status: str, body: str, delivery: dict[str, Any]) -> str:
    event_type = None
    try:
        try:
            event = parse_event(body)
        except MalformedEvent as exc:
            raise PermanentFailure(f"not a valid order event: {exc}") from None
        event_type = event.type
        log_context.set_field("event_id", event.id)
        log_context.set_field("order_id", event.order_id)
        if event.status != status:
            raise PermanentFailure(f"event for status {event.status!r} on the {status!r} queue")
        try:
            order_services().pipeline.handle(event)
        except OrderNotFound as exc:
            raise PermanentFailure(str(exc)) from None
        except EventMismatch as exc:
            raise PermanentFailure(f"event does not match the stored order: {exc}") from None
        return "handled"
    except PermanentFailure as exc:
        dead_letter(status, body, delivery, reason=str(exc), event_type=event_type)
        return "dead-lettered"
    except Exception as exc:  # noqa: BLE001 - transient until the deliveries run out
        if delivery["receive_count"] >= settings.ORDERS_DLQ_MAX_RECEIVE_COUNT:
            dead_letter(
                status,
                body,
                delivery,
                event_type=event_type,
                reason=f"failed {delivery['receive_count']} times, "
                f"last: {type(exc).__name__}: {exc}",
            )
            return "dead-lettered"
        log.warning(
            "delivery %s of message %s on %s failed, will retry: %s",
            delivery["receive_count"],
            delivery.get("message_id"),
            delivery["queue"],
            exc,
            exc_info=True,
        )
        # Not acknowledged: the transport hides it for the backoff of this delivery count, and
        # SQS's redrive policy is the backstop should this worker die before dead-lettering.
        raise Reject(str(exc), requeue=False) from exc


def _register(status: Status) -> None:
    def run(body: str, delivery: dict[str, Any]) -> str:
        return handle_delivery(str(status), body, delivery)

    run.__name__ = f"handle_{status}"
    run.__qualname__ = run.__name__
    run.__doc__ = f"Handle an event delivered to the {status} queue."
    app.task(name=task_name(status), acks_late=True, ignore_result=True)(run)


for _status in STATUSES:
    _register(_status)


@worker_init.connect
def serve_metrics(**_: Any) -> None:
    """/metrics on METRICS_PORT for this worker (its threads share one registry)."""
    metrics.serve(settings.METRICS_PORT)


@worker_ready.connect
def warm_up(**_: Any) -> None:
    """Build the AWS clients before the first message, not while it waits (threads share them)."""
    order_services()
    status_queues()


_sweepers: list[BacklogSweeper] = []


@worker_ready.connect
def start_backlog_sweeper(**_: Any) -> None:
    """The accepted worker's safety net for orders waiting for a team (workers.backlog)."""
    interval = settings.ORDERS_BACKLOG_SWEEP_SECONDS
    if interval <= 0 or not serves_accepted(settings.ORDERS_WORKER_STATUS or None):
        return
    _sweepers.append(
        BacklogSweeper(
            lambda: order_services().assignment.assign_waiting(), interval=interval
        ).start()
    )


@worker_shutdown.connect
def stop_backlog_sweeper(**_: Any) -> None:
    while _sweepers:
        _sweepers.pop().stop()

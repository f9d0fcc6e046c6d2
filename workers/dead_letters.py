"""Moving a message that cannot be handled to its queue's dead-letter queue, with the reason.

SQS's own redrive (after ``maxReceiveCount`` deliveries) stays as the backstop for workers
that crash mid-message; sending explicitly lets a malformed message go at once and lets staff
read why each message failed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from orders import aws
from orders.aws import queue_url
from orders.events.contract import isoformat
from orders.resources import from_settings

log = logging.getLogger(__name__)

FAILURE_REASON_MAX = 1000


def dead_letter(
    status: str, body: str, delivery: dict[str, Any], *, reason: str, event_type: str | None = None
) -> None:
    """Send ``body`` to the dead-letter queue of ``status``'s queue with why it failed. The
    attributes mirror the ones SNS set (``status``, ``event_type``) plus the failure facts."""
    resources = from_settings()
    facts = {
        "status": status,
        "event_type": event_type,
        "failure_reason": reason[:FAILURE_REASON_MAX],
        "failed_queue": delivery["queue"],
        "failed_at": isoformat(datetime.now(UTC)),
    }
    attributes = {
        name: {"DataType": "String", "StringValue": value} for name, value in facts.items() if value
    }
    attributes["receive_count"] = {
        "DataType": "Number",
        "StringValue": str(delivery["receive_count"]),
    }
    kwargs: dict[str, Any] = {
        "QueueUrl": queue_url(resources.dead_letter_queue_name(status)),
        "MessageBody": body or "(empty body)",
        "MessageAttributes": attributes,
    }
    if resources.fifo:
        kwargs["MessageGroupId"] = delivery.get("group_id") or "dead-letters"
        kwargs["MessageDeduplicationId"] = delivery["message_id"]
    aws.client("sqs").send_message(**kwargs)
    log.error(
        "message %s from %s moved to the dead-letter queue: %s",
        delivery.get("message_id"),
        delivery["queue"],
        reason,
    )

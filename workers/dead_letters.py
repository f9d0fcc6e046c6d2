"""Moving a message that cannot be handled to its queue's dead-letter queue, with the reason.

SQS's own redrive (after ``maxReceiveCount`` deliveries) stays as the backstop for workers
that crash mid-message; sending explicitly lets a malformed message go at once and lets staff
read why each message failed. The message and its attributes are made by
``aws.queues.StatusQueues.dead_letter``, next to the code that reads them back.
"""

from __future__ import annotations

import logging
from typing import Any

from portal.container import status_queues

log = logging.getLogger(__name__)


def dead_letter(
    status: str, body: str, delivery: dict[str, Any], *, reason: str, event_type: str | None = None
) -> None:
    status_queues().dead_letter(status, body, delivery, reason=reason, event_type=event_type)
    log.error(
        "message %s from %s moved to the dead-letter queue: %s",
        delivery.get("message_id"),
        delivery["queue"],
        reason,
    )

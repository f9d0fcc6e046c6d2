"""The transactional outbox: events are stored with the order, then published.

Right after a write the service publishes the new event and forgets the outbox entry. If SNS
is unreachable, or the process dies in between, the entry stays with the order and the relay
(``manage.py relay_outbox``) publishes it once it is older than the grace period. Delivery is
therefore at least once; consumers skip duplicates by order version and event id.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from .contract import OutboxMessage

log = logging.getLogger(__name__)


class Publisher(Protocol):
    def publish(self, message: OutboxMessage) -> None: ...


class Outbox:
    def __init__(self, repository, publisher: Publisher, *, grace: timedelta):
        self._repository = repository
        self._publisher = publisher
        self.grace = grace

    def publish_stored(self, message: OutboxMessage) -> bool:
        """Publish an event already stored with its order. Never raises: a failure here is
        the relay's job, and the caller's write has succeeded."""
        try:
            self._publisher.publish(message)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the event to the relay
            log.warning(
                "event %s of order %s not published yet, left for the outbox relay: %s",
                message.event_id,
                message.order_id,
                exc,
            )
            return False
        try:
            self._repository.mark_published(message.order_id, message.event_id)
        except Exception as exc:  # noqa: BLE001 - the relay will publish it once more
            log.warning("event %s published but still in the outbox: %s", message.event_id, exc)
        return True

    def sweep(self, *, now: datetime, limit: int = 100) -> int:
        """Publish events left in the outbox for longer than the grace period."""
        published = 0
        for message in self._repository.pending_messages(
            created_before=now - self.grace, limit=limit
        ):
            if self.publish_stored(message):
                published += 1
                log.info(
                    "outbox relay published event %s of order %s",
                    message.event_id,
                    message.order_id,
                )
        return published

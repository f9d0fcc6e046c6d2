"""The AWS resources the workflow table implies, named in one place.

Provisioning, the publisher, the Celery queues and the deployment generator (``deploy``) all
take their names from here, so they cannot disagree. ``portal.container.resources()`` fills
them from settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders.domain.workflow import STATUSES, Status

FIFO_SUFFIX = ".fifo"


def status_slug(status: str) -> str:
    """A status as it appears in resource names: "in_progress" -> "in-progress"."""
    return str(status).replace("_", "-")


def table_name(prefix: str) -> str:
    """The orders table's default name (``ORDERS_TABLE_NAME`` overrides it)."""
    return f"{prefix}-orders"


def side_table_name(table: str) -> str:
    """The default name of the table beside the orders (``ORDERS_SIDE_TABLE_NAME``)."""
    return f"{table}-side"


def topic_name(prefix: str) -> str:
    """The topic's default name, without ".fifo" (``ORDERS_TOPIC_NAME`` overrides it)."""
    return f"{prefix}-order-events"


def attachments_bucket_name(prefix: str) -> str:
    return f"{prefix}-attachments"


def queue_name(prefix: str, status: str, fifo: bool = False) -> str:
    """The SQS queue SNS fills with events whose ``status`` attribute is ``status``. Takes any
    status string (the deployment generator's tests add statuses the workflow lacks) and any
    prefix (the CloudFormation template passes ``${Prefix}``)."""
    return f"{prefix}-{status_slug(status)}{FIFO_SUFFIX if fifo else ''}"


def dead_letter_queue_name(prefix: str, status: str, fifo: bool = False) -> str:
    return f"{prefix}-{status_slug(status)}-dlq{FIFO_SUFFIX if fifo else ''}"


@dataclass(frozen=True)
class Resources:
    prefix: str
    table: str
    topic: str
    fifo: bool = False
    #: The attachments bucket; empty = derived from the prefix.
    bucket: str = ""
    #: The table beside the orders (no stream); empty = derived from the orders table's name.
    side: str = ""

    @property
    def side_table(self) -> str:
        """Everything that is not an order's change: notes, attachments, search entries, the
        feed, idempotency records, team loads, throughput counts, relay checkpoints."""
        return self.side or side_table_name(self.table)

    @property
    def attachments_bucket(self) -> str:
        """The S3 bucket of the orders' photos and documents."""
        return self.bucket or attachments_bucket_name(self.prefix)

    @property
    def suffix(self) -> str:
        return FIFO_SUFFIX if self.fifo else ""

    @property
    def topic_name(self) -> str:
        return self.topic + self.suffix

    def queue_name(self, status: str) -> str:
        """The queue of ``status``, one of the workflow's (anything else is a ValueError)."""
        return queue_name(self.prefix, Status(status), self.fifo)

    def dead_letter_queue_name(self, status: str) -> str:
        return dead_letter_queue_name(self.prefix, Status(status), self.fifo)

    def status_for_queue(self, queue_name: str) -> Status | None:
        for status in STATUSES:
            if queue_name == self.queue_name(status):
                return status
        return None

    @property
    def queue_names(self) -> dict[Status, str]:
        return {status: self.queue_name(status) for status in STATUSES}

"""The AWS resources the workflow table implies, named in one place.

Provisioning, the publisher, the Celery queues and (later) the deployment files all take
their names from here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from orders.domain.workflow import STATUSES, Status


def status_slug(status: str) -> str:
    """A status as it appears in resource names: "in_progress" -> "in-progress"."""
    return str(status).replace("_", "-")


@dataclass(frozen=True)
class Resources:
    prefix: str
    table: str
    topic: str
    fifo: bool = False
    #: The attachments bucket; empty = derived from the prefix.
    bucket: str = ""

    @property
    def attachments_bucket(self) -> str:
        """The S3 bucket of the orders' photos and documents."""
        return self.bucket or f"{self.prefix}-attachments"

    @property
    def suffix(self) -> str:
        return ".fifo" if self.fifo else ""

    @property
    def topic_name(self) -> str:
        return self.topic + self.suffix

    def queue_name(self, status: str) -> str:
        """The SQS queue SNS fills with events whose ``status`` attribute is ``status``."""
        return f"{self.prefix}-{status_slug(Status(status))}{self.suffix}"

    def dead_letter_queue_name(self, status: str) -> str:
        return f"{self.prefix}-{status_slug(Status(status))}-dlq{self.suffix}"

    def status_for_queue(self, queue_name: str) -> Status | None:
        for status in STATUSES:
            if queue_name == self.queue_name(status):
                return status
        return None

    @property
    def queue_names(self) -> dict[Status, str]:
        return {status: self.queue_name(status) for status in STATUSES}


def from_settings() -> Resources:
    from django.conf import settings

    return Resources(
        prefix=settings.ORDERS_RESOURCE_PREFIX,
        table=settings.ORDERS_TABLE_NAME,
        topic=settings.ORDERS_TOPIC_NAME,
        fifo=settings.ORDERS_FIFO,
        bucket=settings.ORDERS_ATTACHMENTS_BUCKET,
    )

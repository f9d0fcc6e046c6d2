"""Publishing events to the SNS topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .contract import EventMessage

#: SNS PublishBatch takes at most ten entries and 256 KiB in all (bodies and attributes).
BATCH_SIZE = 10
BATCH_BYTES = 256 * 1024


class PublishFailed(Exception):
    """SNS refused some entries of a batch; none of the batch counts as published."""


class SnsPublisher:
    def __init__(self, client: Any, topic_arn: Callable[[], str], *, fifo: bool):
        self._client = client
        self._topic_arn = topic_arn
        self._fifo = fifo

    def publish(self, messages: Sequence[EventMessage]) -> None:
        """Publish in order, in as few calls as SNS's batch limits allow. Raises
        :class:`PublishFailed` (or the client's error) if any entry was not accepted; the
        caller retries the lot, so a consumer may see an event twice but never misses one."""
        for chunk in batches(messages):
            entries = [self._entry(str(i), m) for i, m in enumerate(chunk)]
            response = self._client.publish_batch(
                TopicArn=self._topic_arn(), PublishBatchRequestEntries=entries
            )
            if response.get("Failed"):
                failures = "; ".join(
                    f"{chunk[int(f['Id'])].event_id}: {f.get('Code')} {f.get('Message', '')}"
                    for f in response["Failed"]
                )
                raise PublishFailed(failures)

    def _entry(self, entry_id: str, message: EventMessage) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Id": entry_id,
            "Message": message.body,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value}
                for name, value in message.attributes.items()
            },
        }
        if self._fifo:
            entry["MessageGroupId"] = message.group_id
            entry["MessageDeduplicationId"] = message.event_id
        return entry


def message_size(message: EventMessage) -> int:
    """What SNS counts against its size limits: the body and each attribute's name and value."""
    attributes = sum(
        len(k) + len("String") + len(v.encode()) for k, v in message.attributes.items()
    )
    return len(message.body.encode()) + attributes


def batches(messages: Sequence[EventMessage]) -> list[list[EventMessage]]:
    """Consecutive groups of at most ``BATCH_SIZE`` messages and ``BATCH_BYTES`` bytes."""
    groups: list[list[EventMessage]] = []
    size = 0
    for message in messages:
        this = message_size(message)
        if not groups or len(groups[-1]) == BATCH_SIZE or size + this > BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(message)
        size += this
    return groups

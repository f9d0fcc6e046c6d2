"""Publishing events to the SNS topic."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .contract import EventMessage

#: SNS PublishBatch takes at most ten entries and 256 KiB in all (bodies and attributes).
BATCH_SIZE = 10
BATCH_BYTES = 256 * 1024


class PublishFailed(Exception):
    """SNS refused some entries of a batch; none of the batch counts as published."""


class SnsPublisher:
    """Publishes with up to ``concurrency`` calls in flight, one lane per call: the relay is
    the one publisher of a table, and one call at a time would cap it at (batch size / round
    trip) events per second. A lane is chosen by order id, so each order's events keep their
    order (SNS FIFO requires it per message group; standard topics get it as a courtesy)."""

    def __init__(
        self, client: Any, topic_arn: Callable[[], str], *, fifo: bool, concurrency: int = 1
    ):
        self._client = client
        self._topic_arn = topic_arn
        self._fifo = fifo
        self._concurrency = max(1, concurrency)
        self._pool = (
            ThreadPoolExecutor(self._concurrency, thread_name_prefix="publish")
            if self._concurrency > 1
            else None
        )

    def publish(self, messages: Sequence[EventMessage]) -> None:
        """Publish in as few calls as SNS's batch limits allow, each order's events in order.
        Raises :class:`PublishFailed` (or the client's error) if any entry was not accepted;
        the caller retries the lot, so a consumer may see an event twice but never misses one."""
        lanes = lanes_for(messages, min(self._concurrency, -(-len(messages) // BATCH_SIZE)))
        if self._pool is None or len(lanes) < 2:
            for lane in lanes:
                self._publish_lane(lane)
            return
        failures = []
        for future in [self._pool.submit(self._publish_lane, lane) for lane in lanes]:
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - every lane is waited for, then raised
                failures.append(exc)
        if failures:
            if len(failures) == 1:
                raise failures[0]
            raise PublishFailed("; ".join(str(f) for f in failures))

    def _publish_lane(self, messages: Sequence[EventMessage]) -> None:
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


def lanes_for(messages: Sequence[EventMessage], count: int) -> list[list[EventMessage]]:
    """Split into at most ``count`` lanes by order id, keeping the given order in each lane."""
    if count <= 1:
        return [list(messages)] if messages else []
    lanes: list[list[EventMessage]] = [[] for _ in range(count)]
    for message in messages:
        lanes[zlib.crc32(message.order_id.encode()) % count].append(message)
    return [lane for lane in lanes if lane]


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

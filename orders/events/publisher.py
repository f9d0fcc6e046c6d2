"""Publishing events to the SNS topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .contract import EventMessage

#: SNS PublishBatch takes at most ten entries.
BATCH_SIZE = 10


class PublishFailed(Exception):
    """SNS refused some entries of a batch; none of the batch counts as published."""


class SnsPublisher:
    def __init__(self, client: Any, topic_arn: Callable[[], str], *, fifo: bool):
        self._client = client
        self._topic_arn = topic_arn
        self._fifo = fifo

    def publish(self, messages: Sequence[EventMessage]) -> None:
        """Publish in order, ten per call. Raises :class:`PublishFailed` (or the client's
        error) if any entry was not accepted; the caller retries the lot, so a consumer may see
        an event twice but never misses one."""
        for start in range(0, len(messages), BATCH_SIZE):
            chunk = messages[start : start + BATCH_SIZE]
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

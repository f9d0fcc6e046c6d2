"""Batching for SNS PublishBatch: ten entries and 256 KiB per call, order kept."""

from __future__ import annotations

import pytest

from orders.events.contract import EventMessage
from orders.events.publisher import (
    BATCH_BYTES,
    PublishFailed,
    SnsPublisher,
    batches,
    message_size,
)


def message(n: int, body_bytes: int = 100) -> EventMessage:
    return EventMessage(
        event_id=f"e{n}",
        order_id=f"o{n}",
        body="x" * body_bytes,
        attributes={"status": "received", "event_type": "order.created"},
        created_at="t",
    )


def test_batches_hold_at_most_ten_messages_in_order():
    groups = batches([message(n) for n in range(23)])
    assert [len(g) for g in groups] == [10, 10, 3]
    assert [m.event_id for g in groups for m in g] == [f"e{n}" for n in range(23)]


def test_batches_stay_under_the_size_limit():
    big = [message(n, body_bytes=60_000) for n in range(10)]
    groups = batches(big)
    assert all(sum(message_size(m) for m in g) <= BATCH_BYTES for g in groups)
    assert [len(g) for g in groups] == [4, 4, 2]


class RecordingSns:
    def __init__(self, fail_ids=()):
        self.calls = []
        self.fail_ids = set(fail_ids)

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):
        self.calls.append(PublishBatchRequestEntries)
        failed = [
            {"Id": e["Id"], "Code": "InternalError"}
            for e in PublishBatchRequestEntries
            if e["Id"] in self.fail_ids
        ]
        return {"Successful": [], "Failed": failed}


def test_fifo_entries_are_grouped_by_order_and_deduplicated_by_event():
    sns = RecordingSns()
    SnsPublisher(sns, lambda: "arn", fifo=True).publish([message(1)])
    entry = sns.calls[0][0]
    assert (entry["MessageGroupId"], entry["MessageDeduplicationId"]) == ("o1", "e1")
    assert entry["MessageAttributes"]["status"] == {"DataType": "String", "StringValue": "received"}


def test_a_partly_failed_batch_raises_naming_the_event():
    with pytest.raises(PublishFailed, match="e1"):
        SnsPublisher(RecordingSns(fail_ids={"1"}), lambda: "arn", fifo=False).publish(
            [message(0), message(1)]
        )

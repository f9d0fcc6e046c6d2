"""Batching for SNS PublishBatch: ten entries and 256 KiB per call, order kept."""

from __future__ import annotations

import threading

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


class OverlappingSns(RecordingSns):
    """Each call waits (up to a deadline) until another call is in flight too, as calls over
    a network do; records how many were in flight at once. Calls made one at a time never
    overlap, and each then waits out its deadline."""

    def __init__(self, fail_ids=()):
        super().__init__(fail_ids)
        self.in_flight = self.most_in_flight = 0
        self.changed = threading.Condition()

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):
        with self.changed:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.most_in_flight > 1, timeout=0.5)
            self.in_flight -= 1
            return super().publish_batch(TopicArn, PublishBatchRequestEntries)


def events_of(order: int, count: int) -> list[EventMessage]:
    return [
        EventMessage(
            event_id=f"o{order}-e{n}",
            order_id=f"o{order}",
            body="x",
            attributes={"status": "received"},
            created_at="t",
        )
        for n in range(count)
    ]


def test_concurrent_lanes_publish_everything_once_and_each_orders_events_in_order():
    # Interleaved as in a stream: every order's first event, then every order's second, ...
    messages = [m for n in range(5) for o in range(40) for m in events_of(o, 5)[n : n + 1]]
    sns = OverlappingSns()

    SnsPublisher(sns, lambda: "arn", fifo=True, concurrency=8).publish(messages)

    published = [entry["MessageDeduplicationId"] for call in sns.calls for entry in call]
    assert sorted(published) == sorted(m.event_id for m in messages)
    assert sns.most_in_flight > 1
    for order in range(40):  # within a lane, calls are sequential and in the given order
        mine = [p for p in published if p.startswith(f"o{order}-")]
        assert mine == [f"o{order}-e{n}" for n in range(5)]


def test_a_failure_in_one_lane_fails_the_publish_so_the_relay_retries_it():
    messages = [m for o in range(30) for m in events_of(o, 1)]
    sns = OverlappingSns(fail_ids={"0"})
    with pytest.raises(PublishFailed):
        SnsPublisher(sns, lambda: "arn", fifo=False, concurrency=4).publish(messages)


def test_a_small_batch_is_still_one_call():
    sns = RecordingSns()
    SnsPublisher(sns, lambda: "arn", fifo=False, concurrency=8).publish(
        [m for o in range(6) for m in events_of(o, 1)]
    )
    assert len(sns.calls) == 1

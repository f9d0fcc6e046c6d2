"""The event relay over a fake DynamoDB Streams API: order, shard lineage, no loss."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from prometheus_client import REGISTRY

from orders.events.relay import EventRelay, MemoryCheckpoints
from orders.repository.stream_images import event_from_image
from orders.repository.table_design import RELAY_PREFIX

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-26T00:00:00.000"


def image(order_id: str, event_id: str | None, region: str = "") -> dict:
    item = {"pk": {"S": f"ORDER#{order_id}"}, "id": {"S": order_id}, "integrator": {"S": "acme"}}
    if event_id:
        item["last_event"] = {
            "M": {
                "id": {"S": event_id},
                "body": {"S": f'{{"id": "{event_id}"}}'},
                "attributes": {"M": {"status": {"S": "received"}}},
                "created_at": {"S": "2026-11-26T00:00:00.000000Z"},
                **({"region": {"S": region}} if region else {}),
            }
        }
    return item


class FakeStreams:
    """One stream, as DynamoDB Streams and the emulator serve it: shards with parents, pages of
    two shards, iterators by sequence number that can expire, an event id per record. A shard
    can be *restored* as moto does when a transaction fails: the shard the stream serves from
    then on is a copy of its first records, and the iterators handed out before keep reading
    the old one (which gets no more writes), while new writes reuse its sequence numbers."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix  # of shard ids, so that two streams' iterators never meet
        self.shards: dict[str, dict] = {}
        self.old: dict[tuple[str, int], dict] = {}  # restored shards, by id and generation
        self.sequence = 100
        self.issued = 0  # iterators are numbered; those up to ``expired_upto`` have expired
        self.expired_upto = 0
        self.calls = 0
        self.status = "ENABLED"
        self.gone: set[str] = set()  # shard ids whose reads answer ResourceNotFoundException

    def iterator(self, shard_id: str, sequence: int) -> str:
        self.issued += 1
        generation = self.shards[shard_id]["generation"]
        return f"{shard_id}|{sequence}|{self.issued}|{generation}"

    def expire_iterators(self) -> None:
        self.expired_upto = self.issued

    def add_shard(self, shard_id: str, parent: str | None = None) -> None:
        self.shards[shard_id] = {"parent": parent, "records": [], "closed": False, "generation": 0}

    def restore(self, shard_id: str, keep: int) -> None:
        """moto's answer to a failed transaction: the shard as it was ``keep`` records ago."""
        shard = self.shards[shard_id]
        self.old[(shard_id, shard["generation"])] = shard
        copy = {**shard, "records": [dict(r) for r in shard["records"][:keep]]}
        copy["generation"] += 1
        self.shards[shard_id] = copy
        self.sequence = int(copy["records"][-1]["dynamodb"]["SequenceNumber"]) if keep else 100

    def write(
        self,
        shard_id: str,
        order_id: str,
        new: str | None,
        old: str | None = None,
        pk: str | None = None,
        region: str = "",
    ) -> str:
        self.sequence += 1
        keys = {"pk": {"S": pk or f"ORDER#{order_id}"}}
        change = {"SequenceNumber": str(self.sequence), "Keys": keys}
        change["NewImage"] = image(order_id, new, region)
        if old:
            change["OldImage"] = image(order_id, old)
        record = {"eventID": uuid.uuid4().hex, "dynamodb": change}
        self.shards[shard_id]["records"].append(record)
        return str(self.sequence)

    def _gone(self, shard_id: str, operation: str) -> None:
        if shard_id in self.gone:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, operation)

    def describe_stream(self, StreamArn, ExclusiveStartShardId=None):
        ids = list(self.shards)
        start = ids.index(ExclusiveStartShardId) + 1 if ExclusiveStartShardId else 0
        page = ids[start : start + 2]
        description = {
            "StreamArn": StreamArn,
            "StreamStatus": self.status,
            "Shards": [
                {
                    "ShardId": s,
                    **(
                        {"ParentShardId": self.shards[s]["parent"]}
                        if self.shards[s]["parent"]
                        else {}
                    ),
                }
                for s in page
            ],
        }
        if start + 2 < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):
        self._gone(ShardId, "GetShardIterator")
        records = self.shards[ShardId]["records"]
        first = int(records[0]["dynamodb"]["SequenceNumber"]) if records else self.sequence + 1
        if ShardIteratorType == "TRIM_HORIZON":
            sequence = first
        elif ShardIteratorType == "LATEST":
            sequence = self.sequence + 1
        elif ShardIteratorType == "AT_SEQUENCE_NUMBER":
            sequence = int(SequenceNumber)
        else:
            sequence = int(SequenceNumber) + 1
        return {"ShardIterator": self.iterator(ShardId, sequence)}

    def get_records(self, ShardIterator, Limit):
        self.calls += 1
        shard_id, sequence, number, generation = ShardIterator.split("|")
        self._gone(shard_id, "GetRecords")
        if int(number) <= self.expired_upto:
            raise ClientError({"Error": {"Code": "ExpiredIteratorException"}}, "GetRecords")
        shard = self.shards[shard_id]
        if int(generation) != shard["generation"]:
            shard = self.old[(shard_id, int(generation))]
        after = [
            r for r in shard["records"] if int(r["dynamodb"]["SequenceNumber"]) >= int(sequence)
        ]
        records = after[:Limit]
        response = {"Records": records}
        if not (shard["closed"] and len(records) == len(after)):
            following = int(records[-1]["dynamodb"]["SequenceNumber"]) + 1 if records else sequence
            self.issued += 1
            response["NextShardIterator"] = f"{shard_id}|{following}|{self.issued}|{generation}"
        return response


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[str] = []
        self.failures = 0

    def publish(self, messages) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SNS is unreachable")
        self.published.extend(m.event_id for m in messages)


def relay_for(streams, publisher, checkpoints=None, **kwargs) -> EventRelay:
    kwargs.setdefault("checkpoint_seconds", 0)  # checkpoint after every poll unless told
    kwargs.setdefault("stream_arn", lambda: ARN)
    return EventRelay(
        streams=streams,
        publisher=publisher,
        checkpoints=checkpoints if checkpoints is not None else MemoryCheckpoints(),
        decode=event_from_image,
        skip_key_prefix=RELAY_PREFIX,
        **kwargs,
    )


@pytest.fixture
def streams() -> FakeStreams:
    fake = FakeStreams()
    fake.add_shard("s1")
    return fake


def test_publishes_each_new_event_once_in_stream_order(streams):
    streams.write("s1", "o1", new="e1")
    streams.write("s1", "o2", new="e2")
    streams.write("s1", "o1", new="e3", old="e1")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)

    assert relay.poll().published == 3
    assert relay.poll().published == 0
    assert publisher.published == ["e1", "e2", "e3"]


def test_skips_writes_that_carry_no_new_event(streams):
    streams.write("s1", "o1", new="e1")
    streams.write("s1", "o1", new="e1", old="e1")  # a write that is not a change of status
    streams.write("s1", "team", new=None, pk="TEAM#north")  # team loads have no event
    streams.write("s1", "x", new=None, pk=RELAY_PREFIX + "orders")  # the relay's own checkpoint
    publisher = FakePublisher()

    result = relay_for(streams, publisher).poll()

    assert publisher.published == ["e1"]
    assert (result.records, result.published) == (4, 1)


def test_with_a_global_table_each_region_publishes_only_its_own_writes(streams):
    streams.write("s1", "o1", new="e1", region="us-east-1")
    streams.write("s1", "o2", new="e2", region="eu-west-1")  # replicated from Ireland
    streams.write("s1", "o3", new="e3")  # written before events carried a region
    checkpoints = MemoryCheckpoints()
    publisher = FakePublisher()

    result = relay_for(streams, publisher, checkpoints, home_region="us-east-1").poll()

    assert publisher.published == ["e1", "e3"]
    assert result.records == 3
    # Skipped, not pending: a relay starting from the checkpoint has nothing left to do.
    again = FakePublisher()
    relay_for(streams, again, checkpoints, home_region="us-east-1").poll()
    assert again.published == []
    # Ireland's relay publishes Ireland's write, and only that one.
    ireland = FakePublisher()
    relay_for(streams, ireland, home_region="eu-west-1").poll()
    assert ireland.published == ["e2", "e3"]


def test_own_checkpoints_do_not_cause_more_checkpoints(streams):
    checkpoints = MemoryCheckpoints()
    relay = relay_for(streams, FakePublisher(), checkpoints)
    first = streams.write("s1", "o1", new="e1")
    relay.poll()
    assert checkpoints.saved == {(relay.stream, "s1"): (first, False)}
    streams.write("s1", "x", new=None, pk=RELAY_PREFIX + "orders")  # what saving wrote
    relay.poll()
    assert checkpoints.saved == {(relay.stream, "s1"): (first, False)}


def test_checkpoints_are_written_at_most_once_per_interval_and_on_stop(streams):
    checkpoints = MemoryCheckpoints()
    relay = relay_for(streams, FakePublisher(), checkpoints, checkpoint_seconds=3600)
    relay.poll()  # the first poll records where it starts
    saved_at_start = dict(checkpoints.saved)
    for order in ("o1", "o2", "o3"):
        last = streams.write("s1", order, new=f"e-{order}")
        relay.poll()
    assert checkpoints.saved == saved_at_start  # not one write per read

    stop = threading.Event()
    stop.set()
    relay.run(stop, idle_seconds=0)  # stopping saves the position reached
    assert checkpoints.saved == {(relay.stream, "s1"): (last, False)}


def test_a_child_shard_is_read_only_after_its_parent_is_finished(streams):
    streams.add_shard("s2", parent="s1")
    streams.write("s1", "o1", new="e1")
    streams.write("s2", "o1", new="e2", old="e1")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)

    relay.poll()
    assert publisher.published == ["e1"]  # the parent is still open
    streams.write("s1", "o2", new="e3")
    streams.shards["s1"]["closed"] = True
    relay.poll()  # reads the parent to its end
    relay.poll()  # then the child
    assert publisher.published == ["e1", "e3", "e2"]


def test_relays_in_groups_share_the_shards_and_a_child_waits_for_its_parents_relay(streams):
    """s1 hashes to group 0 and s4 to group 1 (of 2): s4 continues s1 (a shard rollover)."""
    streams.add_shard("s4", parent="s1")
    streams.write("s1", "o1", new="e1")
    streams.write("s4", "o1", new="e2", old="e1")
    checkpoints = MemoryCheckpoints()  # shared: in production, the orders table
    first, second = FakePublisher(), FakePublisher()
    group0 = relay_for(streams, first, checkpoints, group=0, groups=2, refresh_seconds=0)
    group1 = relay_for(streams, second, checkpoints, group=1, groups=2, refresh_seconds=0)

    group0.poll()
    group1.poll()
    assert (first.published, second.published) == (["e1"], [])  # s1 is still open

    streams.shards["s1"]["closed"] = True
    group1.poll()
    assert second.published == []  # s1's relay has not finished it yet
    group0.poll()  # reads s1 to its end and checkpoints it as finished
    group1.poll()
    assert (first.published, second.published) == (["e1"], ["e2"])
    assert not set(first.published) & set(second.published)


def test_a_relay_group_outside_the_groups_is_refused(streams):
    with pytest.raises(ValueError, match="relay group 2"):
        relay_for(streams, FakePublisher(), group=2, groups=2)


def test_shards_are_listed_across_pages(streams):
    for shard in ("s2", "s3", "s4"):
        streams.add_shard(shard)
        streams.write(shard, f"o-{shard}", new=f"e-{shard}")
    publisher = FakePublisher()
    relay_for(streams, publisher).poll()
    assert sorted(publisher.published) == ["e-s2", "e-s3", "e-s4"]


def test_a_failed_publish_is_retried_and_nothing_is_lost(streams):
    streams.write("s1", "o1", new="e1")
    streams.write("s1", "o2", new="e2")
    publisher = FakePublisher()
    publisher.failures = 2
    checkpoints = MemoryCheckpoints()
    relay = relay_for(streams, publisher, checkpoints)

    for _ in range(2):
        with pytest.raises(ConnectionError):
            relay.poll()
    assert checkpoints.saved == {}
    relay.poll()
    assert publisher.published == ["e1", "e2"]


def test_a_new_relay_resumes_after_the_checkpoint(streams):
    checkpoints = MemoryCheckpoints()
    first = FakePublisher()
    streams.write("s1", "o1", new="e1")
    relay_for(streams, first, checkpoints).poll()
    streams.write("s1", "o2", new="e2")

    second = FakePublisher()
    relay_for(streams, second, checkpoints).poll()

    assert first.published == ["e1"]
    assert second.published == ["e2"]


def test_a_crash_before_the_checkpoint_publishes_again_rather_than_losing(streams):
    class CrashingCheckpoints(MemoryCheckpoints):
        def save(self, *args, **kwargs):
            raise RuntimeError("process killed")

    streams.write("s1", "o1", new="e1")
    publisher = FakePublisher()
    with pytest.raises(RuntimeError):
        relay_for(streams, publisher, CrashingCheckpoints()).poll()
    relay_for(streams, publisher).poll()
    assert publisher.published == ["e1", "e1"]  # at least once


def test_an_expired_iterator_resumes_from_the_last_position(streams):
    streams.write("s1", "o1", new="e1")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)
    relay.poll()
    streams.write("s1", "o2", new="e2")
    streams.expire_iterators()
    relay.poll()  # the iterator it held has expired: it asks for a new one
    relay.poll()
    assert publisher.published == ["e1", "e2"]


def test_starting_at_latest_skips_what_came_before(streams):
    streams.write("s1", "o1", new="e1")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher, start_at="LATEST")
    relay.poll()
    streams.write("s1", "o2", new="e2")
    relay.poll()
    assert publisher.published == ["e2"]


def test_run_keeps_going_after_a_failure_and_stops_when_asked(streams):
    streams.write("s1", "o1", new="e1")
    publisher = FakePublisher()
    publisher.failures = 1
    stop = threading.Event()
    relay = relay_for(streams, publisher)
    original = relay.poll

    def poll_until_published():
        result = original()
        if publisher.published:
            stop.set()
        return result

    relay.poll = poll_until_published
    thread = threading.Thread(target=relay.run, args=(stop,), kwargs={"idle_seconds": 0.01})
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert publisher.published == ["e1"]


class FakeFeed:
    def __init__(self) -> None:
        self.appended: list[str] = []

    def append(self, messages) -> None:
        self.appended.extend(m.event_id for m in messages)


def test_published_events_are_appended_to_the_feed_and_unpublished_ones_are_not(streams):
    streams.write("s1", "o1", new="e1")
    publisher, feed = FakePublisher(), FakeFeed()
    publisher.failures = 1
    relay = relay_for(streams, publisher, feed=feed)
    with pytest.raises(ConnectionError):
        relay.poll()
    assert feed.appended == []
    relay.poll()
    assert feed.appended == ["e1"] == publisher.published


class KilledPartWay(FakePublisher):
    """Publishes ten at a time, as SNS's PublishBatch does, and dies after ``survive``."""

    def __init__(self, survive: int) -> None:
        super().__init__()
        self.survive = survive

    def publish(self, messages) -> None:
        for start in range(0, len(messages), 10):
            if len(self.published) >= self.survive:
                raise SystemExit("relay killed")
            self.published.extend(m.event_id for m in messages[start : start + 10])


def test_a_relay_killed_part_way_through_a_large_batch_republishes_at_most_one_chunk(streams):
    events = [f"e{n}" for n in range(1000)]
    for n, event in enumerate(events):
        streams.write("s1", f"o{n}", new=event)
    checkpoints = MemoryCheckpoints()  # shared by both processes: the orders table
    killed = KilledPartWay(survive=450)
    relay = relay_for(streams, killed, checkpoints, checkpoint_seconds=3600)
    with pytest.raises(SystemExit):
        relay.poll()  # one read of all 1,000 records; killed after publishing 450

    restarted = FakePublisher()
    relay_for(streams, restarted, checkpoints, checkpoint_seconds=3600).poll()

    assert set(killed.published) | set(restarted.published) == set(events)  # none lost
    republished = len(killed.published) + len(restarted.published) - len(events)
    assert republished <= 100, f"{republished} events published twice"


def test_checkpoints_cost_one_write_per_chunk_of_events(streams):
    class CountingCheckpoints(MemoryCheckpoints):
        writes = 0

        def save(self, *args, **kwargs):
            self.writes += 1
            super().save(*args, **kwargs)

    for n in range(1000):
        streams.write("s1", f"o{n}", new=f"e{n}")
    checkpoints = CountingCheckpoints()
    relay_for(streams, FakePublisher(), checkpoints, checkpoint_seconds=3600).poll()
    assert checkpoints.writes == 10
    assert (
        checkpoints.saved[(ARN.split(":table/")[-1], "s1")][0]
        == streams.shards["s1"]["records"][-1]["dynamodb"]["SequenceNumber"]
    )


# -- following the stream: replaced shards and streams, gone shards ------------------------

ARN_B = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-27T00:00:00.000"


class Clock:
    """The relay's monotonic clock, moved on by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("orders.events.relay.monotonic", clock)
    return clock


@pytest.mark.parametrize("rolled_back", [0, 2], ids=["nothing-else-read", "rolled-back-read"])
def test_a_shard_the_emulator_replaced_is_read_again_without_skipping_what_the_copy_got(
    streams, clock, caplog, rolled_back
):
    """A failed TransactWriteItems on moto puts back a copy of the table taken before it: the
    stream keeps its ARN and shard id, but the relay's iterator goes on reading the old copy,
    which gets no more writes, and new writes reuse the sequence numbers of the transaction's
    items the old copy got (and the relay may have read). Orders then stayed `received`."""
    streams.write("s1", "o1", new="e1")
    streams.write("s1", "o2", new="e2")
    publisher, checkpoints = FakePublisher(), MemoryCheckpoints()
    relay = relay_for(streams, publisher, checkpoints)  # stream_check_seconds: 5
    relay.poll()
    for n in range(rolled_back):  # the failed transaction's items, in the old copy only
        streams.write("s1", "o1", new=None, pk=f"NOTE#o1#{n}")
    relay.poll()
    streams.restore("s1", keep=2)
    streams.write("s1", "o3", new="e3")
    streams.write("s1", "o1", new="e4", old="e1")
    relay.poll()
    assert publisher.published == ["e1", "e2"]  # the iterator it holds sees nothing new

    clock.advance(5)  # quiet for stream_check_seconds: read again from a new iterator
    relay.poll()
    relay.poll()

    assert publisher.published == ["e1", "e2", "e3", "e4"]
    last = streams.shards["s1"]["records"][-1]["dynamodb"]["SequenceNumber"]
    assert checkpoints.saved[(relay.stream, "s1")] == (last, False)
    assert "stream shard s1 of " + ARN in caplog.text


def test_a_replaced_shard_shorter_than_what_was_read_is_not_skipped_ahead(streams, clock):
    """Until the copy gets a write, a new read cannot tell it from the old one: the relay must
    not take an iterator after its position then, or the copy's next write (which takes the
    rolled-back item's sequence number) would be skipped."""
    streams.write("s1", "o1", new="e1")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)  # stream_check_seconds: 5
    relay.poll()
    streams.write("s1", "o1", new=None, pk="NOTE#o1#1")  # rolled back with its transaction
    relay.poll()
    streams.restore("s1", keep=1)
    clock.advance(5)
    relay.poll()  # nothing past the copy's end yet

    streams.write("s1", "o2", new="e2")
    clock.advance(5)
    relay.poll()
    relay.poll()

    assert publisher.published == ["e1", "e2"]


def test_a_replaced_shard_is_followed_even_before_anything_was_read_from_it(streams, clock):
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)  # from TRIM_HORIZON, of an empty shard
    relay.poll()
    streams.restore("s1", keep=0)
    streams.write("s1", "o1", new="e1")
    clock.advance(5)
    relay.poll()
    assert publisher.published == ["e1"]


def test_a_write_after_a_quiet_spell_is_read_once_and_raises_no_alarm(streams, clock, caplog):
    """Reading a quiet shard again costs one GetRecords per stream_check_seconds and finds
    nothing amiss on a healthy stream, even when a write arrives just then."""
    streams.write("s1", "o1", new="e1")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)
    relay.poll()
    clock.advance(5)
    relay.poll()  # read again: the same records
    streams.write("s1", "o2", new="e2")
    clock.advance(5)
    relay.poll()  # read again, and there is e2: the iterator held sees it too
    relay.poll()
    assert publisher.published == ["e1", "e2"]
    assert "stream shard" not in caplog.text


class TableStreams:
    """The DynamoDB Streams API over several streams of one table (disabled and enabled again
    makes a new one), by ARN; ``current`` is the stream DescribeTable names."""

    def __init__(self) -> None:
        self.streams: dict[str, FakeStreams] = {}
        self.current = ""

    def add(self, arn: str, prefix: str) -> FakeStreams:
        stream = FakeStreams(prefix)
        stream.add_shard(prefix + "1")
        self.streams[arn], self.current = stream, arn
        return stream

    def _stream(self, arn: str, operation: str) -> FakeStreams:
        if arn not in self.streams:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, operation)
        return self.streams[arn]

    def describe_stream(self, StreamArn, **kwargs):
        return self._stream(StreamArn, "DescribeStream").describe_stream(StreamArn, **kwargs)

    def get_shard_iterator(self, StreamArn, **kwargs):
        return self._stream(StreamArn, "GetShardIterator").get_shard_iterator(StreamArn, **kwargs)

    def get_records(self, ShardIterator, Limit):
        shard_id = ShardIterator.split("|")[0]
        for stream in self.streams.values():
            if shard_id in stream.shards:
                return stream.get_records(ShardIterator, Limit)
        raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetRecords")


def test_the_table_s_new_stream_is_followed_from_its_start_after_the_old_one_is_read(clock, caplog):
    """Stream disabled and enabled again: what the old stream still holds is published, then
    everything in the new one, from its start even for a relay that started at LATEST."""
    table = TableStreams()
    old = table.add(ARN, "a")
    publisher = FakePublisher()
    relay = relay_for(table, publisher, stream_arn=lambda: table.current, start_at="LATEST")
    relay.poll()
    old.write("a1", "o1", new="e1")
    relay.poll()
    old.write("a1", "o1", new="e2", old="e1")  # not read before the stream was disabled
    old.status, old.shards["a1"]["closed"] = "DISABLED", True
    new = table.add(ARN_B, "b")
    new.write("b1", "o1", new="e3", old="e2")

    clock.advance(5)  # stream_check_seconds: DescribeTable names another stream
    for _ in range(3):
        relay.poll()

    assert publisher.published == ["e1", "e2", "e3"]
    assert relay.stream_arn == ARN_B
    assert ARN in caplog.text and ARN_B in caplog.text


def test_a_stream_that_can_no_longer_be_read_is_left_for_the_table_s_current_one(clock):
    table = TableStreams()
    old = table.add(ARN, "a")
    old.write("a1", "o1", new="e1")
    publisher = FakePublisher()
    relay = relay_for(table, publisher, stream_arn=lambda: table.current)
    relay.poll()
    new = table.add(ARN_B, "b")
    new.write("b1", "o2", new="e2")
    del table.streams[ARN]  # ResourceNotFoundException from now on

    relay.poll()  # the error itself sends it to DescribeTable, before stream_check_seconds
    relay.poll()

    assert publisher.published == ["e1", "e2"]


def test_a_shard_that_is_gone_counts_as_read_and_its_children_are_read(streams, caplog):
    streams.add_shard("s2", parent="s1")
    streams.write("s2", "o1", new="e2")
    streams.gone.add("s1")  # a closed shard DynamoDB deleted 24 hours after its last record
    publisher = FakePublisher()
    relay = relay_for(streams, publisher)

    relay.poll()
    relay.poll()

    assert publisher.published == ["e2"]
    assert "stream shard s1" in caplog.text


# -- restarts: checkpoints by time, short back-off after timeouts, progress ---------------


class SlowSns(FakePublisher):
    """Each PublishBatch call (ten events) takes a second of the relay's clock; the process is
    killed (SIGKILL: no clean shutdown) when ``calls`` have been made."""

    def __init__(self, clock: Clock, calls: int) -> None:
        super().__init__()
        self.clock, self.calls = clock, calls

    def publish(self, messages) -> None:
        for start in range(0, len(messages), 10):
            if self.calls == 0:
                raise SystemExit("relay killed")
            self.clock.advance(1.0)
            self.calls -= 1
            self.published.extend(m.event_id for m in messages[start : start + 10])


def test_a_relay_killed_every_few_seconds_still_moves_its_checkpoint(streams, clock, tmp_path):
    """Outside testing killed the relay every 10-30 s while calls were slow: each restart
    published the same first chunk again (one event arrived 4 times) and nothing else. A
    relay that finds the two before it ended before saving a checkpoint (in the file its
    readiness probe reads, kept in the container's /tmp across restarts) starts small."""
    from orders.events.relay import ProgressFile

    events = [f"e{n}" for n in range(200)]
    for n, event in enumerate(events):
        streams.write("s1", f"o{n}", new=event)
    checkpoints = MemoryCheckpoints()  # shared by every life: the orders table
    progress = ProgressFile(tmp_path / "relay.json")
    published: list[str] = []
    for _life in range(13):  # each killed 5 s after it started publishing
        sns = SlowSns(clock, calls=5)
        relay = relay_for(streams, sns, checkpoints, checkpoint_seconds=1.0, progress_file=progress)
        with contextlib.suppress(SystemExit):
            relay.run(PausesRecorded(most=3), idle_seconds=0)  # or stops, all published
        published += sns.published

    assert set(published) == set(events)
    assert max(Counter(published).values()) <= 3  # two full chunks cut short, then saved


class PausesRecorded(threading.Event):
    """A stop event whose waits return at once, recorded; set after ``most`` of them."""

    def __init__(self, most: int) -> None:
        super().__init__()
        self.most = most
        self.pauses: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.pauses.append(timeout or 0.0)
        if len(self.pauses) >= self.most:
            self.set()
        return self.is_set()


def test_after_timed_out_calls_the_relay_pauses_only_briefly(streams):
    """Read timeouts backed off up to 30 s in streaks: 440 s of a 1,138 s drain."""
    relay = relay_for(streams, FakePublisher())

    def times_out():
        raise ReadTimeoutError(endpoint_url="http://127.0.0.1:4566/")

    relay.poll = times_out
    stop = PausesRecorded(most=8)
    relay.run(stop, idle_seconds=0.25)
    assert max(stop.pauses) <= 2.0  # EVENT_RELAY_TIMEOUT_BACKOFF_SECONDS

    def refused():
        raise ConnectionError("connection refused")

    relay.poll = refused
    stop = PausesRecorded(most=8)
    relay.run(stop, idle_seconds=0.25)
    assert stop.pauses[-1] == 30.0  # other failures still back off to 30 s


def test_the_timeout_backoff_setting_is_held_to_its_range():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    env["EVENT_RELAY_TIMEOUT_BACKOFF_SECONDS"] = "45"
    check = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode != 0
    assert "EVENT_RELAY_TIMEOUT_BACKOFF_SECONDS=45.0 is out of range" in check.stderr


def test_each_pass_is_progress_the_probe_and_the_metric_see(streams, clock, tmp_path, settings):
    from orders.events.relay import ProgressFile
    from portal.health import RelayStalled, check_relay

    settings.EVENT_RELAY_PROGRESS_FILE = str(tmp_path / "relay.json")
    settings.EVENT_RELAY_STALL_SECONDS = 60
    with pytest.raises(RelayStalled):
        check_relay()  # not started: not ready
    progress = ProgressFile(tmp_path / "relay.json")
    publisher = FakePublisher()
    relay = relay_for(streams, publisher, progress_file=progress)
    started = time.time()

    relay.poll()
    check_relay()
    progress_at = REGISTRY.get_sample_value(
        "portal_relay_last_progress_timestamp_seconds", {"group": "0"}
    )
    assert progress_at >= started

    progress.write(progress_at=time.time() - 61, stream=ARN)  # as a relay stuck for 61 s left it
    streams.write("s1", "o1", new="e1")
    publisher.failures = 1
    clock.advance(2)
    with pytest.raises(ConnectionError):
        relay.poll()  # a failed pass is no progress
    with pytest.raises(RelayStalled):
        check_relay()
    clock.advance(2)
    relay.poll()
    check_relay()


def test_asked_to_stop_the_relay_ends_after_the_chunk_in_hand_and_saves_its_place(streams):
    """SIGTERM mid-read: the relay used to publish the rest of a read (up to 1,000 records)
    first, which under a slow SNS outlasted the grace period, and the SIGKILL that followed
    lost the checkpoint."""
    for n in range(1000):
        streams.write("s1", f"o{n}", new=f"e{n}")
    stop = threading.Event()

    class StopsAfterTheFirstCall(FakePublisher):
        def publish(self, messages) -> None:
            super().publish(messages)
            stop.set()  # the signal handler, while this chunk was being published

    publisher, checkpoints = StopsAfterTheFirstCall(), MemoryCheckpoints()
    relay = relay_for(streams, publisher, checkpoints, checkpoint_seconds=3600)

    relay.run(stop, idle_seconds=0)

    assert len(publisher.published) <= 100  # the chunk in hand, not the rest of the read
    restarted = FakePublisher()
    relay_for(streams, restarted, checkpoints).poll()
    assert restarted.published[0] == f"e{len(publisher.published)}"  # on from there, none again


def test_the_feed_and_the_counts_are_added_at_once_and_a_failure_of_either_is_retried(streams):
    class FailsOnce(FakeFeed):
        def __init__(self) -> None:
            super().__init__()
            self.failures = 1

        def append(self, messages) -> None:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("DynamoDB is unreachable")
            super().append(messages)

    streams.write("s1", "o1", new="e1")
    feed, counts, checkpoints = FakeFeed(), FailsOnce(), MemoryCheckpoints()
    relay = relay_for(streams, FakePublisher(), checkpoints, feed=feed, projections=[counts])
    with pytest.raises(ConnectionError):
        relay.poll()
    assert checkpoints.saved == {}  # not past an event a projection missed
    relay.poll()
    assert counts.appended == ["e1"]
    assert feed.appended == ["e1", "e1"]  # the real feed skips what it has


@pytest.mark.parametrize(
    ("last_relay", "first_chunk"),
    [
        ({"started_at": 100.0, "unsaved_before": 1}, 10),
        ({"started_at": 100.0}, 100),
        ({"started_at": 100.0, "saved_at": 101.0, "unsaved_before": 1}, 100),
    ],
    ids=["two-ended-before-a-checkpoint", "one-did", "the-last-saved"],
)
def test_a_relay_starts_with_small_chunks_after_two_that_never_saved(
    streams, tmp_path, last_relay, first_chunk
):
    from orders.events.relay import ProgressFile

    for n in range(150):
        streams.write("s1", f"o{n}", new=f"e{n}")
    progress = ProgressFile(tmp_path / "relay.json")
    progress.write(progress_at=0.0, stream=ARN, **last_relay)

    class Chunks(FakePublisher):
        sizes: list[int] = []

        def publish(self, messages) -> None:
            self.sizes.append(len(messages))
            super().publish(messages)

    publisher = Chunks()
    relay = relay_for(streams, publisher, progress_file=progress)
    relay.run(PausesRecorded(most=1), idle_seconds=0)

    assert publisher.sizes[0] == first_chunk
    assert publisher.published == [f"e{n}" for n in range(150)]
    assert progress.relays_ended_unsaved() == 0  # this one stopped cleanly

"""The event relay over a fake DynamoDB Streams API: order, shard lineage, no loss."""

from __future__ import annotations

import threading

import pytest

from orders.events.relay import MemoryCheckpoints
from orders.repository.table_design import RELAY_PREFIX
from tests.unit.orders.relay_fakes import (
    ARN,
    FakeFeed,
    FakePublisher,
    relay_for,
)


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


def test_starting_at_latest_reads_a_shard_that_appears_later_from_its_start():
    """LATEST is where the relay starts in the shards there are; a shard that appears later
    (an empty stream's first, a split's children) holds only newer records: all are read."""
    from .relay_fakes import FakeStreams

    empty = FakeStreams()
    publisher = FakePublisher()
    relay = relay_for(empty, publisher, start_at="LATEST", refresh_seconds=0)
    relay.poll()  # no shard yet: it has taken its place at the end of nothing
    empty.add_shard("s1")
    empty.write("s1", "o1", new="e1")
    empty.write("s1", "o2", new="e2")
    relay.poll()
    relay.poll()
    assert publisher.published == ["e1", "e2"]


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

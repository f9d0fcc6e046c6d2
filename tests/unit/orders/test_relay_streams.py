"""The event relay over a fake DynamoDB Streams API: shards and streams replaced under it,
timeouts, kills and stops, and what it tells the probe."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from botocore.exceptions import ReadTimeoutError
from prometheus_client import REGISTRY

from orders.events.relay import MemoryCheckpoints
from tests.unit.orders.relay_fakes import (
    ARN,
    ARN_B,
    Clock,
    FakeFeed,
    FakePublisher,
    TableStreams,
    relay_for,
)


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

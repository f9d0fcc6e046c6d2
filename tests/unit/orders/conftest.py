"""Fixtures of the relay's tests (``test_relay.py``, ``test_relay_streams.py``)."""

from __future__ import annotations

import pytest

from tests.unit.orders.relay_fakes import Clock, FakeStreams


@pytest.fixture
def streams() -> FakeStreams:
    fake = FakeStreams()
    fake.add_shard("s1")
    return fake


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    # The relay and each of its parts read the clock of their own module.
    for module in ("relay", "relay_progress", "shard_reader", "stream_follower"):
        monkeypatch.setattr(f"orders.events.{module}.monotonic", clock)
    return clock

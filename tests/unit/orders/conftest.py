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
    monkeypatch.setattr("orders.events.relay.monotonic", clock)
    return clock

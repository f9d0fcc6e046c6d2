"""How a dispatcher shares its threads between endpoints (webhooks/dispatch.py)."""

from __future__ import annotations

import pytest

from webhooks.dispatch import DispatchSettings


@pytest.mark.parametrize(("concurrency", "share"), [(1, 1), (2, 1), (4, 3), (8, 6), (32, 24)])
def test_one_endpoint_gets_all_but_a_quarter_of_the_threads_by_default(concurrency, share):
    assert DispatchSettings(schedule=(), concurrency=concurrency).endpoint_share == share


def test_the_endpoint_share_can_be_set():
    assert DispatchSettings(schedule=(), concurrency=8, endpoint_concurrency=2).endpoint_share == 2


def test_a_lease_outlasts_the_attempt_deadline():
    settings = DispatchSettings(schedule=(), timeout_seconds=120, lease_seconds=60)
    assert settings.lease.total_seconds() == 150

"""No partition key above DynamoDB's per-partition limits at 10,000 orders/s (issue 20): the
keys come from the portal's own code (``bench/hot_keys.py`` asks it), so a change that makes
every order of a status, an integrator or a category share a key fails here."""

from __future__ import annotations

import pytest

from bench import hot_keys


@pytest.fixture(scope="module")
def ten_thousand_a_second():
    return hot_keys.simulate(10_000)


def test_no_key_takes_more_than_a_partition_can_write(ten_thousand_a_second):
    hot = ten_thousand_a_second
    assert hot.events > 40_000  # the usual life: about four events per order
    assert hot.hottest_wcu <= hot_keys.PARTITION_WCU, hot.writes.most_common(5)


def test_no_key_takes_more_than_a_partition_can_read(ten_thousand_a_second):
    hot = ten_thousand_a_second
    assert hot.hottest_rcu <= hot_keys.PARTITION_RCU, hot.reads.most_common(5)


def test_the_keys_a_status_or_an_integrator_shares_are_spread(ten_thousand_a_second):
    writes = ten_thousand_a_second.writes
    status_keys = {key for (where, key) in writes if where == "by-status-shard"}
    big = {key for (where, key) in writes if key.startswith("FEED#big-integrator")}
    assert {k.rpartition("#")[0] for k in status_keys} >= {"received", "accepted", "completed"}
    assert len(status_keys) > 4 * 16 and len(big) > 16


def test_one_shard_per_key_would_not_hold(monkeypatch):
    """The simulation can fail: with every shard count at one, the big integrator's feed and
    each status are one partition each, far over the limit, at a fifth of the rate."""
    from orders.repository import feed, items, search_index

    for module, name in (
        (items, "INDEX_SHARDS"),
        (search_index, "SEARCH_SHARDS"),
        (items, "CREATED_SHARDS"),
        (feed, "FEED_SHARDS"),
    ):
        monkeypatch.setattr(module, name, 1)
    hot = hot_keys.simulate(2_000)
    assert hot.hottest_wcu > hot_keys.PARTITION_WCU

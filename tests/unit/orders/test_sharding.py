"""Merged pages over write-sharded keys: every entry once, in order, however sparse a shard."""

from __future__ import annotations

import random

import pytest

from orders.repository.sharding import every_shard, merge, shard_of, sharded


def test_an_id_always_goes_to_the_same_shard_and_ids_spread_evenly():
    ids = [f"order-{n}" for n in range(32_000)]
    counts = [0] * 32
    for item_id in ids:
        counts[shard_of(item_id, 32)] += 1
        assert shard_of(item_id, 32) == shard_of(item_id, 32)
    assert min(counts) > 0.9 * 1000 and max(counts) < 1.1 * 1000
    assert sharded("received", "order-1", 32) in every_shard("received", 32)


def paginate(shards: list[list[str]], size: int, reads: int, *, newest_first: bool) -> list[str]:
    """Walk every page the way the repository does: each shard reads at most ``reads``
    entries beyond the cursor, of which only the 'kept' ones (a filter) are returned."""
    ordered = [sorted(s, reverse=newest_first) for s in shards]
    seen: list[str] = []
    beyond = None
    for _ in range(10_000):
        fetched = []
        for shard in ordered:
            ahead = [
                k for k in shard if beyond is None or (k < beyond if newest_first else k > beyond)
            ]
            looked_at = ahead[:reads]
            kept = [k for k in looked_at if not k.endswith("x")]  # the filter
            frontier = looked_at[-1] if len(ahead) > reads else None
            fetched.append((kept[:size], frontier if len(kept) <= size else kept[size - 1]))
        page, beyond = merge(fetched, lambda k: k, size, newest_first=newest_first)
        seen += page
        if beyond is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("newest_first", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_pages_merged_from_shards_hold_every_kept_entry_once_in_order(seed, newest_first):
    rng = random.Random(seed)
    shards = [
        [
            f"{rng.randrange(10**6):07d}{rng.choice('ab' * 3 + 'x')}"
            for _ in range(rng.randrange(40))
        ]
        for _ in range(rng.randrange(1, 9))
    ]
    expected = sorted({k for s in shards for k in s if not k.endswith("x")}, reverse=newest_first)
    got = paginate(
        shards, size=rng.randrange(1, 7), reads=rng.randrange(1, 9), newest_first=newest_first
    )
    assert got == expected


def test_a_shard_left_sparse_holds_the_page_back_rather_than_be_skipped():
    dense = (["9", "8", "7", "6"], None)
    sparse = ([], "5")  # looked at down to 5, found nothing kept, has more below
    page, beyond = merge([dense, sparse], lambda k: k, 10)
    assert page == ["9", "8", "7", "6"] and beyond == "5"
    # ...and a full page goes on from its last entry.
    page, beyond = merge([(["9", "8", "7"], None), (["6"], None)], lambda k: k, 2)
    assert page == ["9", "8"] and beyond == "8"

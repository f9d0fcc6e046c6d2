"""Write sharding: the index keys that every order of a status, or of one integrator, would
share are spread over numbered shards, so that no partition takes more than DynamoDB's
1,000 WCU/s at 10,000 orders/s (``bench/hot_keys.py`` simulates it; the figures are in
docs/capacity.md). Writers derive an item's shard from a stable hash of its own id; readers
query every shard of a key and merge the answers in key order.

A merged page goes on from a sort key, not from one position per shard: every shard is read
below it (newest first) or above it (oldest first), so a cursor stays small however many
shards there are. A shard that a filter left sparse (it stopped reading before it ran out)
sets a frontier: the page holds nothing beyond it, and the next page starts there, so no
shard's unread entries can be skipped.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Shards of each ``by-status-shard`` and ``by-integrator-shard`` key: a status takes every
#: order entering and leaving it (two index writes per move), one integrator can send 40 %
#: of all orders. 32 keeps both under 700 WCU/s at 10,000 orders/s.
INDEX_SHARDS = 32
#: Shards of ``by-created-shard`` (written once per order): 16 is 625 WCU/s at 10,000/s.
CREATED_SHARDS = 16
#: Shards of an integrator's event feed (about six events per order, 40 % of them for one
#: integrator at 10,000 orders/s: 24,000 items a second).
FEED_SHARDS = 32
#: Shards of a search bucket (the first letters of a token; "sto" of "store" is in most).
SEARCH_SHARDS = 16


def shard_of(item_id: str, shards: int) -> int:
    """Which of ``shards`` an item goes to: a stable hash of its own id (CRC-32)."""
    return zlib.crc32(item_id.encode()) % shards


def sharded(value: str, item_id: str, shards: int) -> str:
    """``value`` with the item's shard: ``"received#07"``."""
    return f"{value}#{shard_of(item_id, shards):02d}"


def every_shard(value: str, shards: int) -> list[str]:
    """Every shard key of ``value``, in shard order."""
    return [f"{value}#{n:02d}" for n in range(shards)]


def merge(
    fetched: Sequence[tuple[list[T], str | None]],
    key: Callable[[T], str],
    size: int,
    *,
    newest_first: bool = True,
) -> tuple[list[T], str | None]:
    """One page of ``size`` from the answers of every shard, and where the next page starts.

    ``fetched``: per shard, what it read (in key order) and, if it stopped before reading
    everything, the sort key of the last entry it looked at (its frontier). Returns the page
    and the key the next page reads beyond (exclusive), or ``None`` when nothing is left.
    """
    frontiers = [last for _, last in fetched if last is not None]
    if newest_first:
        frontier = max(frontiers) if frontiers else None

        def within(k: str) -> bool:
            return frontier is None or k >= frontier
    else:
        frontier = min(frontiers) if frontiers else None

        def within(k: str) -> bool:
            return frontier is None or k <= frontier

    candidates = sorted(
        (entry for entries, _ in fetched for entry in entries), key=key, reverse=newest_first
    )
    eligible = [entry for entry in candidates if within(key(entry))]
    page = eligible[:size]
    if len(eligible) > size:
        return page, key(page[-1])
    # Everything up to the frontier is on this page: go on from there, if anything is left.
    return page, frontier

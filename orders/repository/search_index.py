"""Search entries: an item per token of an order's words, under the token's first letters
(``orders.domain.search``), written before the order and pruned by the searches that meet
stale ones.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from kernel.clock import isoformat
from orders.domain import search
from orders.domain.model import (
    Order,
)

from .base import SearchResult, clamp_page_size
from .batch import Unwritten, batch_write, puts
from .items import string_value
from .sharding import (
    SEARCH_SHARDS,
    every_shard,
    sharded,
)
from .table_design import SEARCH_PREFIX

#: Index entries one search term reads at most (newest first within a token).
SEARCH_READS_MAX = 1000
#: Matching orders one search reads and checks at most.
SEARCH_CHECKED_MAX = 300

#: An index entry whose order is gone or no longer has that word is removed when a search
#: meets it, once older than this: younger ones may belong to a write still in progress.
SEARCH_STALE_AFTER = timedelta(minutes=15)


def search_items(order: Order, *, written_at: datetime) -> list[dict[str, Any]]:
    """The order's search index items: one per token, under the token's first letters; the
    sort key starts with the token, so a term finds every token it begins, newest first."""
    created = isoformat(order.created_at)
    return [
        {
            "pk": string_value(
                sharded(SEARCH_PREFIX + search.bucket(token), order.id, SEARCH_SHARDS)
            ),
            "sk": string_value(f"{token}#{created}#{order.id}"),
            "order_id": string_value(order.id),
            "written_at": string_value(isoformat(written_at)),
        }
        for token in sorted(search.order_tokens(order))
    ]


def _search_entry(item: dict[str, Any]) -> tuple[str, str, str]:
    """(token, created, order id) of an index item's sort key."""
    token, created, order_id = item["sk"]["S"].rsplit("#", 2)
    return token, created, order_id


class DynamoSearchIndex:
    """The search side of the order repository (a part of ``DynamoOrderRepository``)."""

    def index_for_search(self, orders: Iterable[Order]) -> int:
        now = datetime.now(UTC)
        items = [item for order in orders for item in search_items(order, written_at=now)]
        self._write_items(items)
        return len(items)

    def _write_items(self, items: list[dict[str, Any]]) -> None:
        """The search entries, resent while throttled, giving up after 8 calls per batch."""
        batch_write(self._client, self._side, puts(items), attempts=8)

    def _term_entries(self, term: str) -> tuple[list[dict[str, Any]], bool]:
        """The index items of the tokens ``term`` begins (or is, when short), newest first
        within a token, from every shard of its bucket (at once): at most SEARCH_READS_MAX;
        the flag says there were more."""
        begins = term if len(term) >= search.PREFIX_MIN else f"{term}#"
        share = -(-SEARCH_READS_MAX // SEARCH_SHARDS)

        def read(partition: str) -> tuple[list[dict[str, Any]], bool]:
            kwargs: dict[str, Any] = {
                "TableName": self._side,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :begins)",
                "ExpressionAttributeValues": {
                    ":pk": string_value(partition),
                    ":begins": string_value(begins),
                },
                "ScanIndexForward": False,
            }
            items: list[dict[str, Any]] = []
            while len(items) < share:
                response = self._client.query(**kwargs, Limit=share - len(items))
                items.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    return items, False
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            return items, True

        shards = every_shard(SEARCH_PREFIX + search.bucket(term), SEARCH_SHARDS)
        read_all = self._fan_out.map(read, shards)
        return [i for items, _ in read_all for i in items], any(more for _, more in read_all)

    def search(self, terms: Sequence[str], *, limit: int = 50) -> SearchResult:
        """One Query per term (at once); the orders every term found, newest first, read a
        page's worth at a time and checked against the terms (entries can be stale); no scan."""
        terms = list(terms)
        if not terms:
            return SearchResult(items=[], more=False)
        size = clamp_page_size(limit)
        per_term = self._fan_out.map(self._term_entries, terms)
        capped = any(more for _, more in per_term)
        entries: dict[str, list[dict[str, Any]]] = {}
        created: dict[str, str] = {}
        found_by = []
        for items, _ in per_term:
            ids = set()
            for item in items:
                _, when, order_id = _search_entry(item)
                ids.add(order_id)
                created[order_id] = when
                entries.setdefault(order_id, []).append(item)
            found_by.append(ids)
        candidates = sorted(set.intersection(*found_by), key=lambda i: (created[i], i))[::-1]
        matched: list[Order] = []
        stale: list[dict[str, Any]] = []
        checked = 0
        while checked < min(len(candidates), SEARCH_CHECKED_MAX) and len(matched) < size:
            # As many as the page still needs: whole orders are read (history included).
            batch = candidates[checked : checked + min(100, size - len(matched))]
            checked += len(batch)
            orders = {o.id: o for o in self.get_many(batch)}
            for order_id in batch:
                order = orders.get(order_id)
                if order is not None and search.matches(order, terms):
                    matched.append(order)
                    continue
                tokens = search.order_tokens(order) if order is not None else frozenset()
                stale += [i for i in entries[order_id] if _search_entry(i)[0] not in tokens]
        self._remove_stale(stale)
        # Candidates not read yet are found by every term: more orders (most likely) match.
        return SearchResult(items=matched, more=capped or checked < len(candidates))

    def _remove_stale(self, items: list[dict[str, Any]]) -> None:
        """Delete index entries that lead nowhere (older than SEARCH_STALE_AFTER)."""
        before = isoformat(datetime.now(UTC) - SEARCH_STALE_AFTER)
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in items if i["written_at"]["S"] < before]
        # Only tidying: what is not deleted now, the next search that meets it tries again.
        with contextlib.suppress(ClientError, Unwritten):
            deletes = [{"DeleteRequest": {"Key": key}} for key in keys]
            batch_write(self._client, self._side, deletes, attempts=1)

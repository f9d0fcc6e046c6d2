"""The order repository's listings and counts: merged queries of write-sharded indexes,
cursors, bounded counts, the oldest waiting orders, reads of many orders at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kernel.clock import isoformat
from orders.domain.errors import (
    InvalidCursor,
)
from orders.domain.model import (
    Order,
)

from .base import OrderFilter, Page, clamp_page_size
from .cursor import decode_cursor, encode_cursor
from .items import item_created_key, item_to_order, order_created_key, order_key, string_value
from .sharding import (
    CREATED_SHARDS,
    INDEX_SHARDS,
    every_shard,
    merge,
)
from .table_design import (
    BY_ASSET,
    BY_CREATED,
    BY_INTEGRATOR,
    BY_SITE,
    BY_STATUS,
    BY_TECHNICIAN,
    BY_VISIT_DAY,
    LISTED_READ,
    ORDER_PREFIX,
)

#: Queries one list page may make when a filter leaves pages sparse.
MAX_READS_PER_PAGE = 5


def place_partition(filters: OrderFilter) -> tuple[str, str, str] | None:
    """The one partition a listing at a place reads: the asset's (the narrower: an asset is
    at one site) or the site's; ``None`` when the filters name neither."""
    if filters.asset_id:
        return (BY_ASSET, "asset_id", filters.asset_id)
    if filters.site_id:
        return (BY_SITE, "site_id", filters.site_id)
    return None


class DynamoOrderQueries:
    """The reads of many orders (a part of ``DynamoOrderRepository``)."""

    def _keys_only(self, kwargs: dict[str, Any], limit: int) -> list[str]:
        ids: list[str] = []
        while len(ids) < limit:
            response = self._client.query(**kwargs, Limit=limit - len(ids))
            ids.extend(i["pk"]["S"].removeprefix(ORDER_PREFIX) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs = dict(kwargs, ExclusiveStartKey=response["LastEvaluatedKey"])
        return ids

    def _in_index_order(self, ids: list[str]) -> list[Order]:
        found = {o.id: o for o in self.get_many(ids)}
        return [found[i] for i in ids if i in found]

    def list_by_technician(self, technician_id: str, *, limit: int = 50) -> list[Order]:
        """The orders given to a technician, newest first (at most ``limit``)."""
        kwargs = {
            "TableName": self._table,
            "IndexName": BY_TECHNICIAN,
            "KeyConditionExpression": "technician_id = :t",
            "ExpressionAttributeValues": {":t": string_value(technician_id)},
            "ScanIndexForward": False,
        }
        return self._in_index_order(self._keys_only(kwargs, clamp_page_size(limit)))

    def visits_between(self, start: datetime, end: datetime, *, limit: int = 200) -> list[Order]:
        """Orders whose latest visit starts in ``[start, end)``, by start (at most ``limit``)."""
        ids: list[str] = []
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date() and len(ids) < limit:
            kwargs = {
                "TableName": self._table,
                "IndexName": BY_VISIT_DAY,
                "KeyConditionExpression": "visit_day = :d AND visit_start_key BETWEEN :lo AND :hi",
                "ExpressionAttributeValues": {
                    ":d": string_value(day.isoformat()),
                    ":lo": string_value(isoformat(start)),
                    ":hi": string_value(isoformat(end)),
                },
            }
            ids.extend(self._keys_only(kwargs, limit - len(ids)))
            day += timedelta(days=1)
        return self._in_index_order(ids)

    def list_by_status(
        self, status: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Order]:
        return self._page(BY_STATUS, "status_shard", status, INDEX_SHARDS, limit, cursor)

    def list_by_integrator(
        self,
        integrator: str,
        *,
        filters: OrderFilter | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Order]:
        """The integrator's orders, newest first, from the keys-only ``by-integrator-shard``
        (written when an order is created, never again: an index that projected what changes
        would be written on every change); filtered once read. At a site or an asset: from
        that place's partition of ``by-site`` or ``by-asset`` instead, the integrator's
        orders only (an id of another integrator's place lists nothing)."""
        filters = filters or OrderFilter()
        place = place_partition(filters)
        if place is not None:
            index, _, value = place
            scope = f"{self._table}/{index}/{value}/{integrator}/{filters.fingerprint}"
            partitions = [place]
        else:
            scope = f"{self._table}/{BY_INTEGRATOR}/{integrator}/{filters.fingerprint}"
            partitions = [
                (BY_INTEGRATOR, "integrator_shard", key)
                for key in every_shard(integrator, INDEX_SHARDS)
            ]
        matched, next_key = self._keys_only_page(
            partitions,
            filters,
            clamp_page_size(limit),
            self._cursor_key(cursor, scope),
            owner=integrator,
        )
        return Page(matched, self._cursor(next_key, scope))

    def _query_kwargs(
        self,
        index: str,
        attribute: str,
        value: str,
        filters: OrderFilter,
        *,
        below: str | None = None,
        above: str | None = None,
        newest_first: bool = True,
    ) -> dict[str, Any]:
        """A Query for one partition (one shard) of an index, narrowed by ``filters`` and, for
        a merged page, to sort keys below (or above) where the page goes on from."""
        condition = "#k = :v"
        names = {"#k": attribute}
        values: dict[str, Any] = {":v": string_value(value)}
        # Creation time bounds are key conditions (the sort key starts with it): no wasted
        # reads. The bound a page goes on from is inclusive here; the entry on it is dropped
        # after the read (one key condition per sort key).
        low = isoformat(filters.created_after) if filters.created_after else None
        high = isoformat(filters.created_before) if filters.created_before else None
        if below is not None and (high is None or below < high):
            high = below
        if above is not None and (low is None or above > low):
            low = above
        if low and high:
            condition += " AND created_key BETWEEN :low AND :high"
            values.update({":low": string_value(low), ":high": string_value(high)})
        elif low:
            condition += " AND created_key >= :low"
            values[":low"] = string_value(low)
        elif high:
            condition += " AND created_key <= :high" if below else " AND created_key < :high"
            values[":high"] = string_value(high)
        # The rest is filtered after the read (DynamoDB still reads what it filters out).
        clauses = []
        for attr, chosen in (
            ("status", filters.statuses if attribute != "status_shard" else ()),
            ("priority", filters.priorities),
            ("assigned_team", filters.teams),
            ("category", filters.categories),
            ("site", filters.sites),
        ):
            if chosen:
                names[f"#{attr}"] = attr
                placeholders = []
                for i, option in enumerate(sorted(chosen)):
                    values[f":{attr}{i}"] = string_value(option)
                    placeholders.append(f":{attr}{i}")
                clauses.append(f"#{attr} IN ({', '.join(placeholders)})")
        if filters.sla_due_before:
            names["#sla"] = "sla_due_at"
            values[":sla"] = string_value(isoformat(filters.sla_due_before))
            clauses.append("#sla < :sla")
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ScanIndexForward": not newest_first,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if clauses:
            kwargs["FilterExpression"] = " AND ".join(clauses)
        return kwargs

    def _fill(
        self, kwargs: dict[str, Any], size: int, *, beyond: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``size`` index entries of one shard (``beyond``, the key a page goes on from,
        left out), in at most MAX_READS_PER_PAGE reads (a filter can leave reads sparse); and,
        if it stopped before the end, the sort key of the last entry it looked at."""
        items: list[dict[str, Any]] = []
        last = None
        for _ in range(MAX_READS_PER_PAGE):
            query = dict(kwargs, Limit=size - len(items) + (1 if beyond else 0))
            if last:
                query["ExclusiveStartKey"] = last
            response = self._client.query(**query)
            items.extend(i for i in response.get("Items", []) if i["created_key"]["S"] != beyond)
            last = response.get("LastEvaluatedKey")
            if not last or len(items) >= size:
                break
        return items, (last["created_key"]["S"] if last else None)

    def _merged(
        self,
        partitions: Sequence[tuple[str, str, str]],
        filters: OrderFilter,
        size: int,
        *,
        beyond: str | None = None,
        newest_first: bool = True,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page merged from every ``(index, key attribute, shard key)`` (read at once), and
        the sort key the next page goes on from (``orders.repository.sharding.merge``)."""

        def read(partition: tuple[str, str, str]) -> tuple[list[dict[str, Any]], str | None]:
            index, attribute, value = partition
            bound = {"below": beyond} if newest_first else {"above": beyond}
            kwargs = self._query_kwargs(
                index, attribute, value, filters, newest_first=newest_first, **bound
            )
            return self._fill(kwargs, size, beyond=beyond)

        fetched = self._fan_out.map(read, list(partitions))
        return merge(fetched, item_created_key, size, newest_first=newest_first)

    def _page(
        self,
        index: str,
        attribute: str,
        value: str,
        shards: int,
        limit: int,
        cursor: str | None,
        filters: OrderFilter | None = None,
    ) -> Page[Order]:
        """Newest first, merged from the key's shards; the cursor is the sort key to go on
        below (one key, however many shards)."""
        filters = filters or OrderFilter()
        scope = f"{self._table}/{index}/{value}/{filters.fingerprint}"
        beyond = self._cursor_key(cursor, scope)
        partitions = [(index, attribute, key) for key in every_shard(value, shards)]
        items, next_key = self._merged(partitions, filters, clamp_page_size(limit), beyond=beyond)
        return Page(
            items=[item_to_order(i) for i in items],
            next_cursor=self._cursor(next_key, scope),
        )

    def _cursor_key(self, cursor: str | None, scope: str) -> str | None:
        if not cursor:
            return None
        payload = decode_cursor(cursor, scope=scope, secret=self._secret)
        if not isinstance(payload.get("k"), str):
            raise InvalidCursor("This cursor is from another version; list again from the start.")
        return payload["k"]

    def _cursor(self, key: str | None, scope: str) -> str | None:
        return encode_cursor({"k": key}, scope=scope, secret=self._secret) if key else None

    def list_recent(
        self, *, filters: OrderFilter | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Order]:
        """Every order, newest first. With statuses chosen: merged from those statuses' shards
        of ``by-status-shard`` (filtered as they are read). Otherwise from the keys-only
        ``by-created-shard`` (one small entry per order, written once), whose orders are read
        whole and filtered; a page a filter leaves sparse is shorter, its cursor goes on.
        At a site or an asset (whatever the statuses): from that place's keys-only partition
        of ``by-site`` or ``by-asset``, read the same way. Bounded reads per page, never a
        scan."""
        filters = filters or OrderFilter()
        scope = f"{self._table}/recent/{filters.fingerprint}"
        size = clamp_page_size(limit)
        beyond = self._cursor_key(cursor, scope)
        if (place := place_partition(filters)) is not None:
            matched, next_key = self._keys_only_page([place], filters, size, beyond)
            return Page(matched, self._cursor(next_key, scope))
        if filters.statuses:
            partitions = [
                (BY_STATUS, "status_shard", key)
                for status in sorted(filters.statuses)
                for key in every_shard(status, INDEX_SHARDS)
            ]
            items, next_key = self._merged(partitions, filters, size, beyond=beyond)
            return Page([item_to_order(i) for i in items], self._cursor(next_key, scope))
        partitions = [(BY_CREATED, "created_shard", key) for key in every_shard("", CREATED_SHARDS)]
        matched, next_key = self._keys_only_page(partitions, filters, size, beyond)
        return Page(matched, self._cursor(next_key, scope))

    def _keys_only_page(
        self,
        partitions: Sequence[tuple[str, str, str]],
        filters: OrderFilter,
        size: int,
        beyond: str | None,
        *,
        owner: str | None = None,
    ) -> tuple[list[Order], str | None]:
        """A page from a keys-only index: its entries merged from the shards, the orders read
        (what a list shows) and filtered (``owner``: that integrator's only), in up to
        MAX_READS_PER_PAGE rounds; and the sort key the next page goes on from."""
        # The index holds keys only: only the creation time narrows what is read.
        keys_only = OrderFilter(
            created_after=filters.created_after, created_before=filters.created_before
        )
        matched: list[Order] = []
        for _ in range(MAX_READS_PER_PAGE):
            entries, beyond = self._merged(partitions, keys_only, size, beyond=beyond)
            ids = [e["pk"]["S"].removeprefix(ORDER_PREFIX) for e in entries]
            # Consistent: an entry in the index is of an order whose write has committed.
            found = {o.id: o for o in self.get_many(ids, listed=True)}
            matched += [
                found[i]
                for i in ids
                if i in found
                and (owner is None or found[i].integrator == owner)
                and filters.matches(found[i])
            ]
            if beyond is None or len(matched) >= size:
                break
        if len(matched) > size:
            # Only when a sparse round ran over: go on from the last order kept.
            matched = matched[:size]
            beyond = order_created_key(matched[-1])
        return matched, beyond

    def count_by_status(self, status: str, *, cap: int = 1000) -> tuple[int, bool]:
        """How many orders are in ``status``, reading at most ``cap`` index entries; the flag
        says the real number may be larger."""
        return self._count(status, cap=cap)

    def count_stuck(
        self, status: str, *, changed_before: datetime, cap: int = 1000
    ) -> tuple[int, bool]:
        """Orders in ``status`` since before ``changed_before``, reading at most ``cap``
        entries of the status (oldest first); the flag says there may be more."""
        return self._count(status, cap=cap, where=("status_changed_at", changed_before))

    def count_due(self, status: str, *, due_before: datetime, cap: int = 1000) -> tuple[int, bool]:
        """Orders in ``status`` whose SLA is due before ``due_before``, reading at most ``cap``
        entries of the status; the flag says there may be more."""
        return self._count(status, cap=cap, where=("sla_due_at", due_before))

    def _count(
        self, status: str, *, cap: int, where: tuple[str, datetime] | None = None
    ) -> tuple[int, bool]:
        """COUNT queries of the status's shards (at once), each reading at most its share of
        ``cap`` entries; ``where``: only those whose time attribute is before the given
        time. Capped when any shard had more (shards fill alike: hashes spread evenly)."""
        share = max(1, -(-cap // INDEX_SHARDS))

        def count(key: str) -> tuple[int, bool]:
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": BY_STATUS,
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "status_shard"},
                "ExpressionAttributeValues": {":s": string_value(key)},
                "Select": "COUNT",
                "Limit": share,
            }
            if where is not None:
                attribute, before = where
                kwargs["FilterExpression"] = "#t < :before"
                kwargs["ExpressionAttributeNames"]["#t"] = attribute
                kwargs["ExpressionAttributeValues"][":before"] = string_value(isoformat(before))
            response = self._client.query(**kwargs)
            return response.get("Count", 0), "LastEvaluatedKey" in response

        counted = self._fan_out.map(count, every_shard(status, INDEX_SHARDS))
        total = sum(n for n, _ in counted)
        capped = any(more for _, more in counted) or total > cap
        return min(total, cap), capped

    def oldest_in_status(self, status: str) -> Order | None:
        """The earliest created order still in ``status`` (one read per shard, at once)."""
        found = self.oldest_first(status, limit=1)
        return found[0] if found else None

    def oldest_first(
        self,
        status: str,
        *,
        limit: int,
        categories: Collection[str] = (),
        before: Order | None = None,
    ) -> list[Order]:
        """Up to ``limit`` orders in ``status`` from the ``by-status-shard`` index, earliest
        created first (its sort key), merged from the status's shards. ``before`` bounds the
        key range, so only older entries are read; ``categories`` is a filter, so at most
        MAX_READS_PER_PAGE reads of ``limit`` entries per shard."""
        filters = OrderFilter(
            categories=frozenset(categories),
            # Inclusive of orders created in the same microsecond; the key decides below.
            created_before=before.created_at + timedelta(microseconds=1) if before else None,
        )
        partitions = [(BY_STATUS, "status_shard", k) for k in every_shard(status, INDEX_SHARDS)]
        items, _ = self._merged(partitions, filters, clamp_page_size(limit), newest_first=False)
        found = [item_to_order(i) for i in items]
        if before is not None:
            bound = order_created_key(before)
            found = [o for o in found if order_created_key(o) < bound]
        return found

    # -- search ---------------------------------------------------------------------------

    def get_many(
        self, order_ids: Iterable[str], *, consistent: bool = True, listed: bool = False
    ) -> list[Order]:
        """The orders that exist among ``order_ids`` (BatchGetItem, 100 at a time);
        ``listed``: only what a list shows (as a listing index projects it), not the history
        and visits."""
        ids = list(dict.fromkeys(order_ids))
        found: list[Order] = []
        for start in range(0, len(ids), 100):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [order_key(i) for i in ids[start : start + 100]],
                    "ConsistentRead": consistent,
                }
            }
            if listed:
                names = {f"#a{i}": name for i, name in enumerate(LISTED_READ)}
                request[self._table]["ProjectionExpression"] = ", ".join(names)
                request[self._table]["ExpressionAttributeNames"] = names
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                found.extend(item_to_order(i) for i in response["Responses"].get(self._table, []))
                request = response.get("UnprocessedKeys") or None
        return found

"""Team loads (the orders each team holds) and each category's backlog marker and assigner
lease, in the side table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .items import is_condition_failure, string_value
from .table_design import BACKLOG_PREFIX, BACKLOG_SK, TEAM_PREFIX, TEAM_SK


class DynamoTeamLoads:
    """Each team's open orders as a string set on one item: adding and removing an order id
    are naturally idempotent, so a redelivered event can never count an order twice."""

    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name
        #: category -> (backlog marker, when read): see waiting_mark.
        self._marks: dict[str, tuple[int | None, float]] = {}
        self._marks_lock = threading.Lock()

    @staticmethod
    def _key(team_id: str) -> dict[str, Any]:
        return {"pk": string_value(TEAM_PREFIX + team_id), "sk": string_value(TEAM_SK)}

    def holdings(self, team_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        ids = list(dict.fromkeys(team_ids))
        result = {team_id: frozenset() for team_id in ids}
        for start in range(0, len(ids), 100):
            keys = [self._key(t) for t in ids[start : start + 100]]
            request = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    team_id = item["pk"]["S"].removeprefix(TEAM_PREFIX)
                    result[team_id] = frozenset(item.get("orders", {}).get("SS", []))
                request = response.get("UnprocessedKeys") or None
        return result

    def reserve(self, team_id: str, order_id: str, *, capacity: int) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(team_id),
                UpdateExpression="ADD orders :order",
                ConditionExpression=(
                    "attribute_not_exists(orders) OR size(orders) < :capacity "
                    "OR contains(orders, :order_id)"
                ),
                ExpressionAttributeValues={
                    ":order": {"SS": [order_id]},
                    ":capacity": {"N": str(capacity)},
                    ":order_id": string_value(order_id),
                },
            )
            return True
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise

    def release(self, team_id: str, order_id: str) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(team_id),
            UpdateExpression="DELETE orders :order",
            ExpressionAttributeValues={":order": {"SS": [order_id]}},
        )

    # -- the category's backlog marker and assigner lease: one item, BACKLOG#<category> ----

    @staticmethod
    def _backlog_key(category: str) -> dict[str, Any]:
        return {"pk": string_value(BACKLOG_PREFIX + category), "sk": string_value(BACKLOG_SK)}

    def _conditional(self, **kwargs: Any) -> bool:
        try:
            self._client.update_item(TableName=self._table, **kwargs)
            return True
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise

    def waiting_mark(self, category: str, *, max_age: float = 0.0) -> int | None:
        """The marker, read again unless ``max_age`` allows this process's last reading: every
        order of a category reads it, so a worker reads it once a second at most, not 3,000
        times (bench/hot_keys.py)."""
        now = time.monotonic()
        if max_age > 0:
            with self._marks_lock:
                known = self._marks.get(category)
            if known is not None and now - known[1] <= max_age:
                return known[0]
        item = self._client.get_item(
            TableName=self._table,
            Key=self._backlog_key(category),
            ProjectionExpression="waiting",
            ConsistentRead=True,
        ).get("Item", {})
        mark = int(item["waiting"]["N"]) if "waiting" in item else None
        with self._marks_lock:
            self._marks[category] = (mark, now)
        return mark

    def _forget_mark(self, category: str) -> None:
        with self._marks_lock:
            self._marks.pop(category, None)

    def join_waiting(self, category: str) -> None:
        self._forget_mark(category)
        self._client.update_item(
            TableName=self._table,
            Key=self._backlog_key(category),
            UpdateExpression="ADD waiting :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    def clear_waiting(self, category: str, seen: int) -> bool:
        self._forget_mark(category)
        return self._conditional(
            Key=self._backlog_key(category),
            UpdateExpression="REMOVE waiting",
            ConditionExpression="waiting = :seen",
            ExpressionAttributeValues={":seen": {"N": str(seen)}},
        )

    def lead_backlog(self, category: str, owner: str, *, seconds: float) -> bool:
        now = datetime.now(UTC).timestamp()
        return self._conditional(
            Key=self._backlog_key(category),
            UpdateExpression="SET lead_owner = :owner, lead_until = :until",
            ConditionExpression=(
                "attribute_not_exists(lead_until) OR lead_until < :now OR lead_owner = :owner"
            ),
            ExpressionAttributeValues={
                ":owner": string_value(owner),
                ":until": {"N": f"{now + seconds:.3f}"},
                ":now": {"N": f"{now:.3f}"},
            },
        )

    def leave_backlog(self, category: str, owner: str) -> None:
        self._conditional(
            Key=self._backlog_key(category),
            UpdateExpression="REMOVE lead_owner, lead_until",
            ConditionExpression="lead_owner = :owner",
            ExpressionAttributeValues={":owner": string_value(owner)},
        )

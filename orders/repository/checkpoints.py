"""How far the event relay got in each stream shard, kept in the side table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kernel.clock import isoformat

from .items import string_value
from .table_design import RELAY_PREFIX


class DynamoCheckpoints:
    """How far the event relay got in each stream shard, kept in the side table."""

    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name

    def _key(self, stream: str, shard_id: str) -> dict[str, Any]:
        return {"pk": string_value(RELAY_PREFIX + stream), "sk": string_value(shard_id)}

    def load(self, stream: str, shard_id: str) -> tuple[str | None, bool]:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(stream, shard_id), ConsistentRead=True
        ).get("Item")
        if not item:
            return None, False
        sequence = item["sequence_number"]["S"] if "sequence_number" in item else None
        return sequence, item.get("finished", {}).get("BOOL", False)

    def save(
        self, stream: str, shard_id: str, *, sequence_number: str | None, finished: bool
    ) -> None:
        item = {
            **self._key(stream, shard_id),
            "finished": {"BOOL": finished},
            "updated_at": string_value(isoformat(datetime.now(UTC))),
        }
        if sequence_number:
            item["sequence_number"] = string_value(sequence_number)
        self._client.put_item(TableName=self._table, Item=item)

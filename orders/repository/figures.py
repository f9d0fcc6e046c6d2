"""The staff's figures as the relay last counted them (``orders.figures``): one item in the
side table, ``STATS#figures`` / ``FIGURES``, replaced by each count."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from kernel.clock import isoformat

KEY = {"pk": {"S": "STATS#figures"}, "sk": {"S": "FIGURES"}}


class DynamoFigures:
    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name

    def save(self, figures: dict[str, Any], counted_at: datetime) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                **KEY,
                "figures": {"S": json.dumps(figures, separators=(",", ":"))},
                "counted_at": {"S": isoformat(counted_at)},
            },
        )

    def load(self) -> tuple[dict[str, Any], datetime] | None:
        """The figures kept and when they were counted (``None``: never)."""
        item = self._client.get_item(TableName=self._table, Key=KEY).get("Item")
        if item is None:
            return None
        counted_at = datetime.fromisoformat(item["counted_at"]["S"].replace("Z", "+00:00"))
        return json.loads(item["figures"]["S"]), counted_at

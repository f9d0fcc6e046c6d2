"""Idempotency records in DynamoDB: what a POST with an ``Idempotency-Key`` answered.

One item per (integrator, key), claimed with a conditional put before the request runs, so
that of several identical requests racing with one key exactly one does the work. Records
expire through the table's TTL on ``expires_at`` (DynamoDB deletes them within a day or two
of that time; an expired record is treated as absent right away).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

PREFIX = "IDEMPOTENCY#"
SK = "IDEMPOTENCY"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """``new``: go ahead. ``replay``: answer ``response`` again. ``mismatch``: the key was used
    for a different request. ``in_progress``: the first request with this key is still running."""

    outcome: str
    response: StoredResponse | None = None


class DynamoIdempotencyStore:
    def __init__(self, client: Any, table_name: str, *, ttl_seconds: int):
        self._client = client
        self._table = table_name
        self._ttl = ttl_seconds

    @staticmethod
    def _key(scope: str, key: str) -> dict[str, Any]:
        return {"pk": {"S": f"{PREFIX}{scope}#{key}"}, "sk": {"S": SK}}

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        now = int(time.time())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(scope, key),
                    "fingerprint": {"S": fingerprint},
                    "state": {"S": "in_progress"},
                    "expires_at": {"N": str(now + self._ttl)},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Claim("new")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = exc.response.get("Item") or self._client.get_item(
                TableName=self._table, Key=self._key(scope, key), ConsistentRead=True
            ).get("Item", {})
        if item.get("fingerprint", {}).get("S") != fingerprint:
            return Claim("mismatch")
        if item.get("state", {}).get("S") != "completed":
            return Claim("in_progress")
        stored = json.loads(item["response"]["S"])
        return Claim("replay", StoredResponse(stored["status"], stored["body"], stored["headers"]))

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        try:
            self._complete(scope, key, response)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # The claim expired while the request ran: nothing to replay from, nothing to keep.

    def _complete(self, scope: str, key: str, response: StoredResponse) -> None:
        self._client.update_item(
            TableName=self._table,
            Key=self._key(scope, key),
            ConditionExpression="attribute_exists(pk)",
            UpdateExpression="SET #state = :completed, #response = :response",
            ExpressionAttributeNames={"#state": "state", "#response": "response"},
            ExpressionAttributeValues={
                ":completed": {"S": "completed"},
                ":response": {
                    "S": json.dumps(
                        {
                            "status": response.status,
                            "body": response.body,
                            "headers": response.headers,
                        }
                    )
                },
            },
        )

    def release(self, scope: str, key: str) -> None:
        """Forget a claim whose request failed on our side, so that a retry can run."""
        self._client.delete_item(TableName=self._table, Key=self._key(scope, key))

"""Idempotency records in DynamoDB: what a POST with an ``Idempotency-Key`` answered.

One item per (integrator, key), claimed with a conditional put before the request runs, so
that of several identical requests racing with one key exactly one does the work. Records
expire through the table's TTL on ``expires_at`` (DynamoDB deletes them within a day or two
of that time; an expired record is treated as absent right away).

A claim that is still in progress holds a short **lease** (``lease_expires_at``, about the
web server's request timeout), not the whole TTL: if the process running the request dies
(killed, out of memory, a deploy), nothing would ever complete or release the claim, and the
key would answer "in progress" for a day. Once the lease has run out, a retry with the same
request takes the claim over (as Stripe, the IETF Idempotency-Key draft and AWS Powertools'
"in-progress expiry" do). Each claim carries a random ``token``; completing or releasing is
conditional on it, so a request that was overtaken can no longer store or forget anything.
A request that is still running renews its lease (``renew``, from the web process: see
``apikit.idempotency.LeaseKeeper``), so only a dead one's claim can be taken over.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .packing import packed, unpacked

log = logging.getLogger(__name__)

PREFIX = "IDEMPOTENCY#"
SK = "IDEMPOTENCY"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """``new``: go ahead, holding ``token``. ``replay``: answer ``response`` again.
    ``mismatch``: the key was used for a different request. ``in_progress``: the first
    request with this key is still running, or died less than a lease ago."""

    outcome: str
    response: StoredResponse | None = None
    token: str | None = None


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoIdempotencyStore:
    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        ttl_seconds: int,
        lease_seconds: float = 35,
        clock: Callable[[], float] = time.time,
    ):
        self._client = client
        self._table = table_name
        self._ttl = ttl_seconds
        self._lease = lease_seconds
        self._clock = clock

    @staticmethod
    def _key(scope: str, key: str) -> dict[str, Any]:
        return {"pk": {"S": f"{PREFIX}{scope}#{key}"}, "sk": {"S": SK}}

    def _claim_item(self, scope: str, key: str, fingerprint: str, now: float) -> dict[str, Any]:
        return {
            **self._key(scope, key),
            "fingerprint": {"S": fingerprint},
            "state": {"S": IN_PROGRESS},
            "token": {"S": uuid.uuid4().hex},
            "lease_expires_at": {"N": f"{now + self._lease:.3f}"},
            "expires_at": {"N": str(int(now) + self._ttl)},
        }

    def claim(self, scope: str, key: str, fingerprint: str) -> Claim:
        now = self._clock()
        item = self._claim_item(scope, key, fingerprint, now)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return Claim("new", token=item["token"]["S"])
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            old = exc.response.get("Item") or self._client.get_item(
                TableName=self._table, Key=self._key(scope, key), ConsistentRead=True
            ).get("Item", {})
        if old.get("token") == item["token"]:
            # The SDK retried our claim after losing the answer to its first, stored, try.
            return Claim("new", token=item["token"]["S"])
        if old.get("fingerprint", {}).get("S") != fingerprint:
            return Claim("mismatch")
        if old.get("state", {}).get("S") == COMPLETED:
            stored = json.loads(unpacked(old["response"]))
            return Claim(
                "replay", StoredResponse(stored["status"], stored["body"], stored["headers"])
            )
        if self._lease_end(old) > now:
            return Claim("in_progress")
        return self._take_over(scope, key, item, old)

    def _lease_end(self, old: dict[str, Any]) -> float:
        """When the claim's lease runs out. A claim written before leases existed has none:
        its lease is counted from its claim time (``expires_at`` minus the TTL)."""
        if "lease_expires_at" in old:
            return float(old["lease_expires_at"]["N"])
        return float(old["expires_at"]["N"]) - self._ttl + self._lease

    def _take_over(self, scope: str, key: str, item: dict[str, Any], old: dict[str, Any]) -> Claim:
        """Replace a claim whose request died, if it is still the one we read: of several
        retries arriving together, exactly one takes it over."""
        if "token" in old:
            condition = "#token = :old_token AND #state = :in_progress"
            values = {":old_token": old["token"], ":in_progress": {"S": IN_PROGRESS}}
        else:
            condition = (
                "attribute_not_exists(#token) AND #state = :in_progress AND expires_at = :old"
            )
            values = {":in_progress": {"S": IN_PROGRESS}, ":old": old["expires_at"]}
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#token": "token", "#state": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            now_stored = self._client.get_item(
                TableName=self._table, Key=self._key(scope, key), ConsistentRead=True
            ).get("Item", {})
            if now_stored.get("token") != item["token"]:
                return Claim("in_progress")  # another retry took it over first
            # else: our own take-over, whose answer the SDK lost and retried
        log.warning(
            "idempotency key %r of %s: took over a claim whose lease ran out "
            "(its request never finished)",
            key,
            scope,
        )
        return Claim("new", token=item["token"]["S"])

    def complete(self, scope: str, key: str, token: str, response: StoredResponse) -> bool:
        """Store the answer for replays, if the claim is still ours; ``False`` if its lease
        ran out and a retry took it over (or the record expired): that retry's answer counts."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(scope, key),
                ConditionExpression="#token = :token",
                UpdateExpression="SET #state = :completed, #response = :response "
                "REMOVE lease_expires_at",
                ExpressionAttributeNames={
                    "#state": "state",
                    "#response": "response",
                    "#token": "token",
                },
                ExpressionAttributeValues={
                    ":token": {"S": token},
                    ":completed": {"S": COMPLETED},
                    # Compressed: a created order's answer is over a kilobyte, two write units.
                    ":response": packed(
                        json.dumps(
                            {
                                "status": response.status,
                                "body": response.body,
                                "headers": response.headers,
                            }
                        )
                    ),
                },
            )
            return True
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
        log.warning(
            "idempotency key %r of %s: the request outlived its lease and was taken over; "
            "its answer is not stored",
            key,
            scope,
        )
        return False

    def renew(self, scope: str, key: str, token: str) -> bool:
        """Extend a running request's lease by another lease from now, if the claim is still
        ours and in progress: a request that is slow, not dead, keeps its key (``False``:
        it was taken over or completed)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(scope, key),
                ConditionExpression="#token = :token AND #state = :in_progress",
                UpdateExpression="SET lease_expires_at = :lease",
                ExpressionAttributeNames={"#token": "token", "#state": "state"},
                ExpressionAttributeValues={
                    ":token": {"S": token},
                    ":in_progress": {"S": IN_PROGRESS},
                    ":lease": {"N": f"{self._clock() + self._lease:.3f}"},
                },
            )
            return True
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            return False

    def release(self, scope: str, key: str, token: str) -> None:
        """Forget a claim whose request failed on our side, so that a retry can run (unless
        the claim is no longer ours)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=self._key(scope, key),
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

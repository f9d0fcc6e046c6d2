"""The tables' design: the item kinds' keys, the indexes and what they project, the
attributes an order item may lack (``docs/dynamodb.md``).
"""

from __future__ import annotations

from typing import Any

ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
TEAM_PREFIX = "TEAM#"
TEAM_SK = "LOAD"
#: Per category: whether orders wait for a team, and who is assigning them (DynamoTeamLoads).
BACKLOG_PREFIX = "BACKLOG#"
BACKLOG_SK = "BACKLOG"
RELAY_PREFIX = "RELAY#"

#: Newest first per status and per integrator, each key write-sharded (``sharding``): the
#: attributes ``status_shard`` ("received#07") and ``integrator_shard``.
BY_STATUS = "by-status-shard"
BY_INTEGRATOR = "by-integrator-shard"
#: Keys only, written once per order: every order newest first (``created_shard`` "#03").
BY_CREATED = "by-created-shard"
#: Sparse, keys only: the orders given to each technician, newest first.
BY_TECHNICIAN = "by-technician"
#: Sparse, keys only: orders by the UTC day their latest visit starts, then its start.
BY_VISIT_DAY = "by-visit-day"
#: Sparse, keys only: the orders at each of the integrators' sites, and at each asset,
#: newest first (one partition per site or asset: a place gets a few orders a day).
BY_SITE = "by-site"
BY_ASSET = "by-asset"
NOTE_PREFIX = "NOTE#"
ATTACHMENT_PREFIX = "ATTACHMENT#"
#: Search index items: ``SEARCH#<first letters>`` / ``<token>#<created>#<order id>``.
SEARCH_PREFIX = "SEARCH#"

#: Where the order is and what created it, written by the create and never again: the
#: keys of the sparse ``by-site`` and ``by-asset`` indexes, and the snapshots of the site,
#: the asset and the maintenance plan the order shows (absent when it has none).
FIXED_AT_CREATION = ("site_id", "asset_id", "site_ref", "asset_ref", "maintenance")
#: Attributes a move or an edit never changes (keys and what identifies the order).
IMMUTABLE = frozenset(
    {
        "pk",
        "sk",
        "id",
        "integrator",
        "integrator_shard",
        "created_at",
        "created_key",
        "created_shard",
        *FIXED_AT_CREATION,
    }
)
#: Attributes that are absent when the order has no value for them.
OPTIONAL = (
    "external_reference",
    "contact",
    "requested_window",
    "sla_due_at",
    "assigned_team",
    "rejection_reason",
    "cancellation_reason",
    "started_at",
    "completed_at",
    "sla_met",
)
#: Optional too, but in no listing index: the visits grow, and the index keys of the sparse
#: technician and visit-day indexes.
UNLISTED_OPTIONAL = (
    "technician",
    "visits",
    "technician_id",
    "visit_day",
    "visit_start_key",
    "changed_at",
)


def table_definition(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments: the table, its keys and the GSIs for each access pattern."""

    def gsi(name: str, hash_key: str, range_key: str | None, projection: dict[str, Any]):
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return {"IndexName": name, "KeySchema": schema, "Projection": projection}

    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (
                "pk",
                "sk",
                "status_shard",
                "integrator_shard",
                "created_shard",
                "created_key",
                "technician_id",
                "visit_day",
                "visit_start_key",
                "site_id",
                "asset_id",
            )
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            gsi(BY_STATUS, "status_shard", "created_key", listing("status_shard", "created_key")),
            gsi(BY_INTEGRATOR, "integrator_shard", "created_key", {"ProjectionType": "KEYS_ONLY"}),
            gsi(BY_CREATED, "created_shard", "created_key", {"ProjectionType": "KEYS_ONLY"}),
            gsi(BY_TECHNICIAN, "technician_id", "created_key", {"ProjectionType": "KEYS_ONLY"}),
            gsi(BY_VISIT_DAY, "visit_day", "visit_start_key", {"ProjectionType": "KEYS_ONLY"}),
            gsi(BY_SITE, "site_id", "created_key", {"ProjectionType": "KEYS_ONLY"}),
            gsi(BY_ASSET, "asset_id", "created_key", {"ProjectionType": "KEYS_ONLY"}),
        ],
        # The stream is the outbox: the event relay publishes what each write committed.
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def side_table_definition(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments of the table beside the orders: the same keys, no index and
    no stream, so that the orders table's stream carries one record per change of an order
    and nothing else."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    }


#: What list pages show. History and the last event stay out of the indexes: they grow, and
#: every byte projected is written again to each index on every change. ``id`` and
#: ``created_at`` are not projected: both are read from ``created_key``, the indexes' sort key.
#: DynamoDB projects at most 20 non-key attributes per index (the test of the table design
#: fails before a new one breaks provisioning on AWS; moto does not enforce it).
MAX_PROJECTED_ATTRIBUTES = 20
LISTED_ATTRIBUTES = (
    "integrator",
    "title",
    "description",
    "category",
    "priority",
    "site",
    "status",
    "version",
    "created_key",
    "updated_at",
    "status_changed_at",
    "metadata",
    *OPTIONAL,
)


#: What a list reads of each order when its index projects keys only: what a list entry of
#: ``by-status-shard`` holds, and where the order is and what created it. The projection is at
#: DynamoDB's limit, and an index's projection cannot change once it exists, so the place and
#: plan are read from the table only: pages from ``by-status-shard`` (the admin's list of some
#: statuses, ``list_by_status``) show the free-text ``site`` alone.
LISTED_READ = (*LISTED_ATTRIBUTES, "revision", "changed_at", *FIXED_AT_CREATION)


#: A shard key carries the value it shards: an index on it need not project that too.
_SHARDED = {"status_shard": "status", "integrator_shard": "integrator"}


def listing(*index_keys: str) -> dict[str, Any]:
    keys = {"pk", "sk", *index_keys, *(_SHARDED[k] for k in index_keys if k in _SHARDED)}
    projected = [name for name in LISTED_ATTRIBUTES if name not in keys]
    if len(projected) > MAX_PROJECTED_ATTRIBUTES:
        raise ValueError(
            f"an index projects {len(projected)} attributes; DynamoDB allows "
            f"{MAX_PROJECTED_ATTRIBUTES}"
        )
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": projected}

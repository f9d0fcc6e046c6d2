"""The order repository over DynamoDB (boto3's low-level client).

Two tables, written down in ``docs/dynamodb.md``: the orders, and beside them (the side
table) everything else. Every change of an order is one conditional write of its item, which
carries its history and the event of the change (``last_event``); only a note or an
attachment adds a second item (in the side table), in one transaction. The orders table's
stream is the outbox: every committed write of an order reaches the event relay
(``orders.events.relay``), which publishes the event to SNS, and nothing else is on it.
No ``Scan`` anywhere: each listing is a ``Query`` on a global secondary index, its keys
write-sharded (``orders.repository.sharding``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from aws.resources import side_table_name
from orders.domain import search
from orders.domain.errors import (
    ConcurrencyConflict,
    InvalidCursor,
    OrderAlreadyExists,
    OrderNotFound,
)
from orders.domain.model import (
    Actor,
    Attachment,
    Contact,
    EventType,
    HistoryEntry,
    Note,
    Order,
    Priority,
    TechnicianRef,
    TimeWindow,
    Visibility,
    Visit,
    entry_event_type,
)
from orders.domain.workflow import ActorKind, Status
from orders.events.contract import (
    EventMessage,
    attachment_to_json,
    isoformat,
    message_of,
    note_to_json,
    subject_of,
)

from .base import OrderFilter, Page, SearchResult, clamp_page_size
from .batch import Unwritten, batch_write, puts
from .cursor import decode_cursor, encode_cursor
from .fan_out import SEQUENTIAL, FanOut
from .packing import packed, unpacked
from .sharding import (
    CREATED_SHARDS,
    INDEX_SHARDS,
    SEARCH_SHARDS,
    every_shard,
    merge,
    sharded,
)

log = logging.getLogger(__name__)

ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
TEAM_PREFIX = "TEAM#"
TEAM_SK = "LOAD"
#: Per category: whether orders wait for a team, and who is assigning them (DynamoTeamLoads).
BACKLOG_PREFIX = "BACKLOG#"
BACKLOG_SK = "BACKLOG"
RELAY_PREFIX = "RELAY#"
#: Queries one list page may make when a filter leaves pages sparse.
MAX_READS_PER_PAGE = 5

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
NOTE_PREFIX = "NOTE#"
ATTACHMENT_PREFIX = "ATTACHMENT#"
#: Search index items: ``SEARCH#<first letters>`` / ``<token>#<created>#<order id>``.
SEARCH_PREFIX = "SEARCH#"
#: Index entries one search term reads at most (newest first within a token).
SEARCH_READS_MAX = 1000
#: Matching orders one search reads and checks at most.
SEARCH_CHECKED_MAX = 300
#: A note or an attachment whose change never reached the order (``recorded``) gives its
#: id up to a new one after this long: younger, its change may still be in progress.
CHILD_STALE_AFTER = timedelta(minutes=5)
#: An index entry whose order is gone or no longer has that word is removed when a search
#: meets it, once older than this: younger ones may belong to a write still in progress.
SEARCH_STALE_AFTER = timedelta(minutes=15)

#: Attributes a move or an edit never changes (keys and what identifies the order).
_IMMUTABLE = frozenset(
    {
        "pk",
        "sk",
        "id",
        "integrator",
        "integrator_shard",
        "created_at",
        "created_key",
        "created_shard",
    }
)
#: Attributes that are absent when the order has no value for them.
_OPTIONAL = (
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
_UNLISTED_OPTIONAL = (
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
    *_OPTIONAL,
)


#: What a list reads of each order when its index projects keys only.
LISTED_READ = (*LISTED_ATTRIBUTES, "revision", "changed_at")


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


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": ORDER_PREFIX + order_id}, "sk": {"S": ORDER_SK}}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _history_from_item(value: dict[str, Any]) -> HistoryEntry:
    m = value["M"]
    return HistoryEntry(
        event_id=m["event_id"]["S"],
        version=int(m["version"]["N"]),
        from_status=Status(m["from"]["S"]) if "S" in m["from"] else None,
        to_status=Status(m["to"]["S"]),
        actor=Actor(ActorKind(m["actor_kind"]["S"]), m["actor_id"]["S"]),
        reason=m["reason"].get("S"),
        at=_dt(m["at"]["S"]),
        event_type=m["type"]["S"] if "type" in m else None,
        internal=m.get("internal", {}).get("BOOL", False),
    )


#: History times are kept as microseconds: the first since the epoch, each next one since
#: the one before (a few digits, where an ISO time is 27 characters that barely compress).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _history_row(entry: HistoryEntry, previous: datetime) -> list[Any]:
    return [
        entry.event_id,
        entry.version,
        entry.from_status,
        entry.to_status,
        entry.actor.kind,
        entry.actor.id,
        entry.reason,
        (entry.at - previous) // _MICROSECOND,
        entry.event_type,
        int(entry.internal),
    ]


def _history_from_row(row: list[Any], previous: datetime) -> HistoryEntry:
    event_id, version, from_status, to_status, kind, actor_id, reason, delta, type_, internal = row
    return HistoryEntry(
        event_id=event_id,
        version=version,
        from_status=Status(from_status) if from_status else None,
        to_status=Status(to_status),
        actor=Actor(ActorKind(kind), actor_id),
        reason=reason,
        at=previous + delta * _MICROSECOND,
        event_type=type_,
        internal=bool(internal),
    )


def packed_history(history: Sequence[HistoryEntry]) -> dict[str, Any]:
    """The history as one compressed attribute: it is rewritten with every change, and an
    order item under a kilobyte costs one write unit per change (docs/capacity.md)."""
    rows, previous = [], _EPOCH
    for entry in history:
        rows.append(_history_row(entry, previous))
        previous = entry.at
    return {"B": zlib.compress(json.dumps(rows, separators=(",", ":")).encode(), 9)}


def history_of(item: dict[str, Any]) -> list[HistoryEntry]:
    """The history an order item holds: packed, or (items written before) a list of maps."""
    value = item.get("history")
    if value is None:
        return []
    if "B" in value:
        entries, previous = [], _EPOCH
        for row in json.loads(zlib.decompress(value["B"])):
            entries.append(_history_from_row(row, previous))
            previous = entries[-1].at
        return entries
    return [_history_from_item(h) for h in value.get("L", [])]


def _technician_to_item(technician: TechnicianRef) -> dict[str, Any]:
    return {"M": {"id": _s(technician.id), "name": _s(technician.name)}}


def _technician_from_item(value: dict[str, Any]) -> TechnicianRef:
    return TechnicianRef(id=value["M"]["id"]["S"], name=value["M"]["name"]["S"])


def _visit_to_item(visit: Visit) -> dict[str, Any]:
    m: dict[str, Any] = {
        "id": _s(visit.id),
        "start": _s(isoformat(visit.start)),
        "end": _s(isoformat(visit.end)),
        "technician": _technician_to_item(visit.technician),
        "scheduled_at": _s(isoformat(visit.scheduled_at)),
        "reschedules": {"N": str(visit.reschedules)},
    }
    for name in ("checked_in_at", "checked_out_at"):
        if (value := getattr(visit, name)) is not None:
            m[name] = _s(isoformat(value))
    return {"M": m}


def _visit_from_item(value: dict[str, Any]) -> Visit:
    m = value["M"]
    return Visit(
        id=m["id"]["S"],
        start=_dt(m["start"]["S"]),
        end=_dt(m["end"]["S"]),
        technician=_technician_from_item(m["technician"]),
        scheduled_at=_dt(m["scheduled_at"]["S"]),
        checked_in_at=_dt(m["checked_in_at"]["S"]) if "checked_in_at" in m else None,
        checked_out_at=_dt(m["checked_out_at"]["S"]) if "checked_out_at" in m else None,
        reschedules=int(m["reschedules"]["N"]),
    )


def note_key(note: Note) -> dict[str, Any]:
    # Time first: a query of the order's partition returns its notes oldest first.
    return {
        "pk": _s(ORDER_PREFIX + note.order_id),
        "sk": _s(f"{NOTE_PREFIX}{isoformat(note.at)}#{note.id}"),
    }


def attachment_key(order_id: str, attachment_id: str) -> dict[str, Any]:
    return {"pk": _s(ORDER_PREFIX + order_id), "sk": _s(ATTACHMENT_PREFIX + attachment_id)}


def _author_attributes(actor: Actor, name: str, at: datetime, visibility: Visibility):
    return {
        "author_kind": _s(actor.kind),
        "author_id": _s(actor.id),
        "author_name": _s(name),
        "at": _s(isoformat(at)),
        "visibility": _s(visibility),
    }


def child_to_item(child: Note | Attachment, *, event_id: str = "") -> dict[str, Any]:
    """A note or an attachment: its own item in the order's partition (side table), stamped
    with the event id of the change that adds it, which the order's item carries."""
    common = _author_attributes(child.author, child.author_name, child.at, child.visibility)
    if event_id:
        common["event_id"] = _s(event_id)
        common["written_at"] = _s(isoformat(datetime.now(UTC)))
    if isinstance(child, Note):
        return {**note_key(child), "id": _s(child.id), "text": _s(child.text), **common}
    return {
        **attachment_key(child.order_id, child.id),
        "id": _s(child.id),
        "key": _s(child.key),
        "filename": _s(child.filename),
        "content_type": _s(child.content_type),
        "size": {"N": str(child.size)},
        **common,
    }


def _author(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "author": Actor(ActorKind(item["author_kind"]["S"]), item["author_id"]["S"]),
        "author_name": item["author_name"]["S"],
        "at": _dt(item["at"]["S"]),
        "visibility": Visibility(item["visibility"]["S"]),
        "event_id": item["event_id"]["S"] if "event_id" in item else "",
    }


def item_to_note(item: dict[str, Any]) -> Note:
    order_id = item["pk"]["S"].removeprefix(ORDER_PREFIX)
    return Note(id=item["id"]["S"], order_id=order_id, text=item["text"]["S"], **_author(item))


def item_to_attachment(item: dict[str, Any]) -> Attachment:
    return Attachment(
        id=item["id"]["S"],
        order_id=item["pk"]["S"].removeprefix(ORDER_PREFIX),
        key=item["key"]["S"],
        filename=item["filename"]["S"],
        content_type=item["content_type"]["S"],
        size=int(item["size"]["N"]),
        **_author(item),
    )


def _event_entry(
    message: EventMessage, region: str = "", child: Note | Attachment | None = None
) -> dict[str, Any]:
    """What an order item keeps of its change's event: its id, and what the event is about
    besides the order, if anything: the sort key of the note or attachment the change adds
    (stored first, in the side table), else the subject itself (a visit). The rest of the
    event is the order and its last history entry: the relay builds the body from the
    stream's new image (:func:`event_from_image`), so that no change writes it twice."""
    entry: dict[str, Any] = {"id": _s(message.event_id)}
    if child is not None:
        entry["child"] = _child_key(child)["sk"]
    elif subject := subject_of(message):
        entry["subject"] = packed(json.dumps(subject, separators=(",", ":"), sort_keys=True))
    if region:
        entry["region"] = _s(region)
    return {"M": entry}


def _child_key(child: Note | Attachment) -> dict[str, Any]:
    if isinstance(child, Note):
        return note_key(child)
    return attachment_key(child.order_id, child.id)


def _subject_of_child(item: dict[str, Any]) -> dict[str, Any]:
    """An event's subject, from the note or attachment item it is about."""
    if item["sk"]["S"].startswith(NOTE_PREFIX):
        return {"note": note_to_json(item_to_note(item))}
    return {"attachment": attachment_to_json(item_to_attachment(item))}


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def order_to_item(order: Order) -> dict[str, Any]:
    """The one mapping from an order to its DynamoDB item (its last event excluded)."""
    created_at = isoformat(order.created_at)
    # No ``id`` nor ``created_at`` of its own: the key and ``created_key`` hold both (an
    # order item is rewritten with every change, and under a kilobyte costs one unit).
    item: dict[str, Any] = {
        **order_key(order.id),
        "integrator": _s(order.integrator),
        "title": _s(order.title),
        "description": _s(order.description),
        "category": _s(order.category),
        "priority": _s(order.priority),
        "site": _s(order.site),
        "status": _s(order.status),
        # What integrators count (and the listing indexes project, so a list shows it);
        # `revision` counts every change and is what a write is conditional on.
        "version": {"N": str(order.public_version)},
        "revision": {"N": str(order.version)},
        "created_key": _s(f"{created_at}#{order.id}"),
        # Index keys, write-sharded by the order's id (orders.repository.sharding).
        "status_shard": _s(sharded(order.status, order.id, INDEX_SHARDS)),
        "integrator_shard": _s(sharded(order.integrator, order.id, INDEX_SHARDS)),
        "created_shard": _s(sharded("", order.id, CREATED_SHARDS)),
        "updated_at": _s(isoformat(order.public_updated_at)),
        "status_changed_at": _s(isoformat(order.status_changed_at)),
        "metadata": _s(json.dumps(dict(order.metadata), separators=(",", ":"), sort_keys=True)),
        "history": packed_history(order.history),
    }
    if order.updated_at != order.public_updated_at:
        # Changed since by staff only (an internal note): ``updated_at`` is what integrators see.
        item["changed_at"] = _s(isoformat(order.updated_at))
    if order.external_reference:
        item["external_reference"] = _s(order.external_reference)
    if order.contact:
        item["contact"] = {
            "M": {k: _s(getattr(order.contact, k)) for k in ("name", "phone", "email")}
        }
    if order.requested_window:
        item["requested_window"] = {
            "M": {
                "start": _s(isoformat(order.requested_window.start)),
                "end": _s(isoformat(order.requested_window.end)),
            }
        }
    for name in ("sla_due_at", "started_at", "completed_at"):
        value = getattr(order, name)
        if value is not None:
            item[name] = _s(isoformat(value))
    for name in ("assigned_team", "rejection_reason", "cancellation_reason"):
        value = getattr(order, name)
        if value:
            item[name] = _s(value)
    if order.sla_met is not None:
        item["sla_met"] = {"BOOL": order.sla_met}
    if order.technician is not None:
        item["technician"] = _technician_to_item(order.technician)
        item["technician_id"] = _s(order.technician.id)
    if order.visits:
        item["visits"] = {"L": [_visit_to_item(v) for v in order.visits]}
        start = isoformat(order.visits[-1].start)
        item["visit_day"] = _s(start[:10])
        item["visit_start_key"] = _s(f"{start}#{order.id}")
    return item


def item_to_order(item: dict[str, Any]) -> Order:
    """The one mapping back from an item to an order."""

    def opt(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def opt_dt(name: str) -> datetime | None:
        return _dt(item[name]["S"]) if name in item else None

    contact = None
    if "contact" in item:
        c = item["contact"]["M"]
        contact = Contact(name=c["name"]["S"], phone=c["phone"]["S"], email=c["email"]["S"])
    window = None
    if "requested_window" in item:
        w = item["requested_window"]["M"]
        window = TimeWindow(start=_dt(w["start"]["S"]), end=_dt(w["end"]["S"]))
    # Index entries carry created_key ("<created_at>#<id>") instead of these two.
    created_at, _, order_id = item["created_key"]["S"].partition("#")
    return Order(
        id=order_id,
        integrator=_unsharded(item, "integrator"),
        title=item["title"]["S"],
        category=item["category"]["S"],
        priority=Priority(item["priority"]["S"]),
        site=item["site"]["S"],
        status=Status(_unsharded(item, "status")),
        # An index item has neither (nor the history): the integrators' count and time.
        version=_revision(item),
        created_at=_dt(created_at),
        updated_at=_dt(item.get("changed_at", item["updated_at"])["S"]),
        status_changed_at=_dt(item["status_changed_at"]["S"]),
        external_reference=opt("external_reference"),
        description=item["description"]["S"],
        contact=contact,
        requested_window=window,
        sla_due_at=opt_dt("sla_due_at"),
        assigned_team=opt("assigned_team"),
        rejection_reason=opt("rejection_reason"),
        cancellation_reason=opt("cancellation_reason"),
        started_at=opt_dt("started_at"),
        completed_at=opt_dt("completed_at"),
        sla_met=item["sla_met"]["BOOL"] if "sla_met" in item else None,
        metadata=json.loads(item["metadata"]["S"]),
        history=tuple(history_of(item)),
        technician=_technician_from_item(item["technician"]) if "technician" in item else None,
        visits=tuple(_visit_from_item(v) for v in item.get("visits", {}).get("L", [])),
    )


def search_items(order: Order, *, written_at: datetime) -> list[dict[str, Any]]:
    """The order's search index items: one per token, under the token's first letters; the
    sort key starts with the token, so a term finds every token it begins, newest first."""
    created = isoformat(order.created_at)
    return [
        {
            "pk": _s(sharded(SEARCH_PREFIX + search.bucket(token), order.id, SEARCH_SHARDS)),
            "sk": _s(f"{token}#{created}#{order.id}"),
            "order_id": _s(order.id),
            "written_at": _s(isoformat(written_at)),
        }
        for token in sorted(search.order_tokens(order))
    ]


def _search_entry(item: dict[str, Any]) -> tuple[str, str, str]:
    """(token, created, order id) of an index item's sort key."""
    token, created, order_id = item["sk"]["S"].rsplit("#", 2)
    return token, created, order_id


def _unsharded(item: dict[str, Any], name: str) -> str:
    """An attribute, or (an index entry that does not project it) its shard key's value."""
    if name in item:
        return item[name]["S"]
    return item[f"{name}_shard"]["S"].rpartition("#")[0]


def _created_key(item: dict[str, Any]) -> str:
    return item["created_key"]["S"]


def _created_key_of(order: Order) -> str:
    return f"{isoformat(order.created_at)}#{order.id}"


def _revision(item: dict[str, Any]) -> int:
    """The order's own version (every change counted). Items written before it was kept apart
    from the integrators' ``version`` counted every change in ``version``."""
    return int(item.get("revision", item["version"])["N"])


def _committed(item: dict[str, Any] | None, event_id: str) -> bool:
    """Whether the stored order already holds the change with this event id: the event id is
    the write's own token, so a retry that meets it knows its first try was stored."""
    if not item:
        return False
    return any(entry.event_id == event_id for entry in history_of(item))


def _history_values(order: Order) -> dict[str, Any]:
    """The event ids of the order's last changes, as values of a condition (at most 99: an
    ``IN`` list holds 100; older changes' children are not stale orphans anyway)."""
    return {f":h{i}": _s(entry.event_id) for i, entry in enumerate(order.history[-99:])}


def _placeholders(order: Order) -> str:
    return ", ".join(_history_values(order))


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoOrderRepository:
    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        cursor_secret: bytes,
        side_table: str = "",
        region: str = "",
        fan_out: FanOut = SEQUENTIAL,
    ):
        self._client = client
        self._table = table_name
        #: Notes, attachments and search entries: beside the orders, off their stream.
        self._side = side_table or side_table_name(table_name)
        self._secret = cursor_secret
        #: Runs the per-status queries of a merged list at once.
        self._fan_out = fan_out
        #: Stamped on each change's event, so that with a global table only this region's
        #: relay publishes it.
        self._region = region

    # -- writes ---------------------------------------------------------------------------

    def add(self, order: Order, message: EventMessage) -> None:
        # The index entries first: a committed order is always findable. Should the order's
        # write fail, its entries lead nowhere and a later search removes them.
        self._write_items(search_items(order, written_at=datetime.now(UTC)))
        item = order_to_item(order)
        item["last_event"] = _event_entry(message, self._region)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            if _committed(self._current(exc, order.id), message.event_id):
                # The SDK retried a write whose first try was stored but whose answer was
                # lost (a read timeout): the order is ours, created once.
                log.info("order %s: a retried create found its own first try", order.id)
                return
            raise OrderAlreadyExists(order.id) from None

    def save_move(
        self,
        order: Order,
        message: EventMessage,
        *,
        expected_status: str,
        expected_version: int,
        adds: Sequence[Note | Attachment] = (),
    ) -> None:
        # A change adds one note or attachment at most: the event is about it.
        subject = adds[0] if len(adds) == 1 else None
        update = self._move_update(order, message, expected_status, expected_version, subject)
        if entry_event_type(order.history[-1]) == EventType.UPDATED:
            # Details may have changed: the new words are findable before they are stored
            # (entries of words gone are removed when a search meets them).
            self._write_items(search_items(order, written_at=datetime.now(UTC)))
        # The notes and attachments first, then the order: two single writes rather than a
        # transaction (which costs twice the write units of each). Should the order's write
        # be refused, they are deleted again; should the process die in between, readers
        # leave them out, as their event is not in the order's history (``recorded``).
        for child in adds:
            self._put_child(child, message.event_id, order, expected_status, expected_version)
        try:
            self._client.update_item(**update, ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            current = self._current(exc, order.id)
            if current and _committed(current, message.event_id):
                # Our own first try, stored, whose answer the SDK lost and retried.
                log.info("order %s: a retried change found its own first try", order.id)
                return
            self._remove_children(adds, message.event_id)
            if not current:
                raise OrderNotFound(order.id) from None
            raise self._conflict(order.id, expected_status, expected_version, current) from None

    @staticmethod
    def _conflict(
        order_id: str, expected_status: str, expected_version: int, current: dict[str, Any]
    ) -> ConcurrencyConflict:
        return ConcurrencyConflict(
            order_id=order_id,
            expected_status=expected_status,
            expected_version=expected_version,
            actual_status=current["status"]["S"],
            actual_version=_revision(current),
        )

    def _put_child(
        self,
        child: Note | Attachment,
        event_id: str,
        order: Order,
        expected_status: str,
        expected_version: int,
    ) -> None:
        """Store a note or an attachment for the change ``event_id``: refused (a conflict)
        if its id is taken, unless by this very change (a retry) or by one that never
        made it into the order, long enough ago that it is not still being made."""
        stale = isoformat(datetime.now(UTC) - CHILD_STALE_AFTER)
        try:
            self._client.put_item(
                TableName=self._side,
                Item=child_to_item(child, event_id=event_id),
                ConditionExpression=(
                    "attribute_not_exists(pk) OR event_id = :event OR "
                    "(written_at < :stale AND NOT event_id IN (" + _placeholders(order) + "))"
                ),
                ExpressionAttributeValues={
                    ":event": _s(event_id),
                    ":stale": _s(stale),
                    **_history_values(order),
                },
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            current = self._client.get_item(
                TableName=self._table, Key=order_key(order.id), ConsistentRead=True
            ).get("Item")
            if not current:
                raise OrderNotFound(order.id) from None
            raise self._conflict(order.id, expected_status, expected_version, current) from None

    def _remove_children(self, children: Sequence[Note | Attachment], event_id: str) -> None:
        """Delete what :meth:`_put_child` stored for a change that was refused."""
        for child in children:
            key = _child_key(child)
            with contextlib.suppress(ClientError):  # not ours (any more): left alone
                self._client.delete_item(
                    TableName=self._side,
                    Key=key,
                    ConditionExpression="event_id = :event",
                    ExpressionAttributeValues={":event": _s(event_id)},
                )

    def _current(self, exc: ClientError, order_id: str) -> dict[str, Any] | None:
        """The item a refused write met: returned with the refusal when DynamoDB can (a single
        conditional write), else read again (a cancelled transaction)."""
        if "Item" in exc.response:
            return exc.response["Item"]
        return self._client.get_item(
            TableName=self._table, Key=order_key(order_id), ConsistentRead=True
        ).get("Item")

    def _move_update(
        self,
        order: Order,
        message: EventMessage,
        expected_status: str,
        expected_version: int,
        child: Note | Attachment | None = None,
    ) -> dict[str, Any]:
        """The conditional ``UpdateItem`` of a change: every attribute set, the new history
        entry appended, the event stored, the absent optional attributes removed."""
        item = order_to_item(order)
        names = {
            "#status": "status",
            "#version": "version",
            "#revision": "revision",
            "#last_event": "last_event",
        }
        values: dict[str, Any] = {
            ":expected_status": _s(expected_status),
            ":expected_version": {"N": str(expected_version)},
            ":message": _event_entry(message, self._region, child),
        }
        sets = ["#last_event = :message"]
        for index, (name, value) in enumerate(sorted(item.items())):
            if name in _IMMUTABLE:
                continue
            names.setdefault(f"#{name}", name)
            values[f":v{index}"] = value
            sets.append(f"#{name} = :v{index}")
        removes = [name for name in (*_OPTIONAL, *_UNLISTED_OPTIONAL) if name not in item]
        for name in removes:
            names[f"#{name}"] = name
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(f"#{n}" for n in removes)
        return {
            "TableName": self._table,
            "Key": order_key(order.id),
            "UpdateExpression": expression,
            "ConditionExpression": (
                "#status = :expected_status AND (#revision = :expected_version OR "
                "(attribute_not_exists(#revision) AND #version = :expected_version))"
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    # -- notes and attachments --------------------------------------------------------------

    def _children(self, order_id: str, prefix: str) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._side,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": _s(ORDER_PREFIX + order_id),
                ":prefix": _s(prefix),
            },
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            response = self._client.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def notes(self, order_id: str) -> list[Note]:
        """The order's notes, oldest first."""
        return [item_to_note(i) for i in self._children(order_id, NOTE_PREFIX)]

    def attachments(self, order_id: str) -> list[Attachment]:
        """The order's attachments, oldest first."""
        found = [item_to_attachment(i) for i in self._children(order_id, ATTACHMENT_PREFIX)]
        return sorted(found, key=lambda a: (a.at, a.id))

    def attachment(self, order_id: str, attachment_id: str) -> Attachment | None:
        item = self._client.get_item(
            TableName=self._side, Key=attachment_key(order_id, attachment_id), ConsistentRead=True
        ).get("Item")
        return item_to_attachment(item) if item else None

    # -- technicians and visits -------------------------------------------------------------

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
            "ExpressionAttributeValues": {":t": _s(technician_id)},
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
                    ":d": _s(day.isoformat()),
                    ":lo": _s(isoformat(start)),
                    ":hi": _s(isoformat(end)),
                },
            }
            ids.extend(self._keys_only(kwargs, limit - len(ids)))
            day += timedelta(days=1)
        return self._in_index_order(ids)

    # -- reads ----------------------------------------------------------------------------

    def event_from_image(self, image: dict[str, Any] | None) -> EventMessage | None:
        """The event a stream record carries (:func:`event_from_image`), the note or
        attachment it is about read from the side table: what the relay publishes."""
        return event_from_image(image, read_child=self._child_item)

    def _child_item(self, order_id: str, sort_key: str) -> dict[str, Any]:
        item = self._client.get_item(
            TableName=self._side,
            Key={"pk": _s(ORDER_PREFIX + order_id), "sk": _s(sort_key)},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            # Written before the order's change, never deleted: the table was tampered with.
            raise LookupError(f"order {order_id}: its event's {sort_key} is not stored")
        return item

    def get(self, order_id: str) -> Order:
        response = self._client.get_item(
            TableName=self._table, Key=order_key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        if not item:
            raise OrderNotFound(order_id)
        return item_to_order(item)

    def history(self, order_id: str) -> list[HistoryEntry]:
        response = self._client.get_item(
            TableName=self._table,
            Key=order_key(order_id),
            ProjectionExpression="#history",
            ExpressionAttributeNames={"#history": "history"},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            raise OrderNotFound(order_id)
        return history_of(item)

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
        would be written on every change); filtered once read."""
        filters = filters or OrderFilter()
        scope = f"{self._table}/{BY_INTEGRATOR}/{integrator}/{filters.fingerprint}"
        partitions = [
            (BY_INTEGRATOR, "integrator_shard", key)
            for key in every_shard(integrator, INDEX_SHARDS)
        ]
        matched, next_key = self._keys_only_page(
            partitions, filters, clamp_page_size(limit), self._cursor_key(cursor, scope)
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
        values: dict[str, Any] = {":v": _s(value)}
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
            values.update({":low": _s(low), ":high": _s(high)})
        elif low:
            condition += " AND created_key >= :low"
            values[":low"] = _s(low)
        elif high:
            condition += " AND created_key <= :high" if below else " AND created_key < :high"
            values[":high"] = _s(high)
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
                    values[f":{attr}{i}"] = _s(option)
                    placeholders.append(f":{attr}{i}")
                clauses.append(f"#{attr} IN ({', '.join(placeholders)})")
        if filters.sla_due_before:
            names["#sla"] = "sla_due_at"
            values[":sla"] = _s(isoformat(filters.sla_due_before))
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
        return merge(fetched, _created_key, size, newest_first=newest_first)

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
        Bounded reads per page, never a scan."""
        filters = filters or OrderFilter()
        scope = f"{self._table}/recent/{filters.fingerprint}"
        size = clamp_page_size(limit)
        beyond = self._cursor_key(cursor, scope)
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
    ) -> tuple[list[Order], str | None]:
        """A page from a keys-only index: its entries merged from the shards, the orders read
        (what a list shows) and filtered, in up to MAX_READS_PER_PAGE rounds; and the sort key
        the next page goes on from."""
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
            matched += [found[i] for i in ids if i in found and filters.matches(found[i])]
            if beyond is None or len(matched) >= size:
                break
        if len(matched) > size:
            # Only when a sparse round ran over: go on from the last order kept.
            matched = matched[:size]
            beyond = _created_key_of(matched[-1])
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
                "ExpressionAttributeValues": {":s": _s(key)},
                "Select": "COUNT",
                "Limit": share,
            }
            if where is not None:
                attribute, before = where
                kwargs["FilterExpression"] = "#t < :before"
                kwargs["ExpressionAttributeNames"]["#t"] = attribute
                kwargs["ExpressionAttributeValues"][":before"] = _s(isoformat(before))
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
            bound = _created_key_of(before)
            found = [o for o in found if _created_key_of(o) < bound]
        return found

    # -- search ---------------------------------------------------------------------------

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
                "ExpressionAttributeValues": {":pk": _s(partition), ":begins": _s(begins)},
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
        return {"pk": _s(TEAM_PREFIX + team_id), "sk": _s(TEAM_SK)}

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
                    ":order_id": _s(order_id),
                },
            )
            return True
        except ClientError as exc:
            if _is_condition_failure(exc):
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
        return {"pk": _s(BACKLOG_PREFIX + category), "sk": _s(BACKLOG_SK)}

    def _conditional(self, **kwargs: Any) -> bool:
        try:
            self._client.update_item(TableName=self._table, **kwargs)
            return True
        except ClientError as exc:
            if _is_condition_failure(exc):
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
                ":owner": _s(owner),
                ":until": {"N": f"{now + seconds:.3f}"},
                ":now": {"N": f"{now:.3f}"},
            },
        )

    def leave_backlog(self, category: str, owner: str) -> None:
        self._conditional(
            Key=self._backlog_key(category),
            UpdateExpression="REMOVE lead_owner, lead_until",
            ConditionExpression="lead_owner = :owner",
            ExpressionAttributeValues={":owner": _s(owner)},
        )


def event_from_image(
    image: dict[str, Any] | None,
    read_child: Callable[[str, str], dict[str, Any]] | None = None,
) -> EventMessage | None:
    """The event a stream record's image carries, if it is an order's (the one mapping back):
    rebuilt from the order and the history entry of its change, byte for byte the message
    the writer made (``contract.message_of``). ``read_child(order id, sort key)`` reads the
    note or attachment an event is about (``DynamoOrderRepository.event_from_image``)."""
    if not image or "last_event" not in image:
        return None
    m = image["last_event"]["M"]
    region = m["region"]["S"] if "region" in m else ""
    if "body" in m:
        # Written before bodies were rebuilt (a table upgraded in place): the body is stored.
        return EventMessage(
            event_id=m["id"]["S"],
            order_id=image["id"]["S"],
            body=unpacked(m["body"]),
            attributes={k: v["S"] for k, v in m["attributes"]["M"].items()},
            created_at=m["created_at"]["S"],
            integrator=image["integrator"]["S"],
            region=region,
        )
    order = item_to_order(image)
    event_id = m["id"]["S"]
    entry = next(e for e in reversed(order.history) if e.event_id == event_id)
    if "child" in m:
        if read_child is None:
            raise ValueError("this event is about a note or an attachment: pass read_child")
        subject = _subject_of_child(read_child(order.id, m["child"]["S"]))
    else:
        subject = json.loads(unpacked(m["subject"])) if "subject" in m else {}
    return replace(message_of(order, entry, subject), region=region)


class DynamoCheckpoints:
    """How far the event relay got in each stream shard, kept in the side table."""

    def __init__(self, client: Any, table_name: str):
        self._client = client
        self._table = table_name

    def _key(self, stream: str, shard_id: str) -> dict[str, Any]:
        return {"pk": _s(RELAY_PREFIX + stream), "sk": _s(shard_id)}

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
            "updated_at": _s(isoformat(datetime.now(UTC))),
        }
        if sequence_number:
            item["sequence_number"] = _s(sequence_number)
        self._client.put_item(TableName=self._table, Item=item)

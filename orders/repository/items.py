"""The one mapping between orders (and their notes, attachments and events) and DynamoDB
items, both ways: what is stored, and how compactly (``docs/dynamodb.md``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from kernel.clock import isoformat
from orders.domain.model import (
    Actor,
    Attachment,
    Contact,
    HistoryEntry,
    MaintenanceRef,
    Note,
    Order,
    PlaceRef,
    Priority,
    TechnicianRef,
    TimeWindow,
    Visibility,
    Visit,
)
from orders.domain.workflow import ActorKind, Status
from orders.events.contract import EventMessage, attachment_to_json, note_to_json

from .packing import packed
from .sharding import (
    CREATED_SHARDS,
    INDEX_SHARDS,
    sharded,
)
from .table_design import ATTACHMENT_PREFIX, NOTE_PREFIX, ORDER_PREFIX, ORDER_SK


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": ORDER_PREFIX + order_id}, "sk": {"S": ORDER_SK}}


def string_value(value: str) -> dict[str, str]:
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
    return {"M": {"id": string_value(technician.id), "name": string_value(technician.name)}}


def _technician_from_item(value: dict[str, Any]) -> TechnicianRef:
    return TechnicianRef(id=value["M"]["id"]["S"], name=value["M"]["name"]["S"])


def _visit_to_item(visit: Visit) -> dict[str, Any]:
    m: dict[str, Any] = {
        "id": string_value(visit.id),
        "start": string_value(isoformat(visit.start)),
        "end": string_value(isoformat(visit.end)),
        "technician": _technician_to_item(visit.technician),
        "scheduled_at": string_value(isoformat(visit.scheduled_at)),
        "reschedules": {"N": str(visit.reschedules)},
    }
    for name in ("checked_in_at", "checked_out_at"):
        if (value := getattr(visit, name)) is not None:
            m[name] = string_value(isoformat(value))
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
        "pk": string_value(ORDER_PREFIX + note.order_id),
        "sk": string_value(f"{NOTE_PREFIX}{isoformat(note.at)}#{note.id}"),
    }


def attachment_key(order_id: str, attachment_id: str) -> dict[str, Any]:
    return {
        "pk": string_value(ORDER_PREFIX + order_id),
        "sk": string_value(ATTACHMENT_PREFIX + attachment_id),
    }


def _author_attributes(actor: Actor, name: str, at: datetime, visibility: Visibility):
    return {
        "author_kind": string_value(actor.kind),
        "author_id": string_value(actor.id),
        "author_name": string_value(name),
        "at": string_value(isoformat(at)),
        "visibility": string_value(visibility),
    }


def child_to_item(child: Note | Attachment, *, event_id: str = "") -> dict[str, Any]:
    """A note or an attachment: its own item in the order's partition (side table), stamped
    with the event id of the change that adds it, which the order's item carries."""
    common = _author_attributes(child.author, child.author_name, child.at, child.visibility)
    if event_id:
        common["event_id"] = string_value(event_id)
        common["written_at"] = string_value(isoformat(datetime.now(UTC)))
    if isinstance(child, Note):
        return {
            **note_key(child),
            "id": string_value(child.id),
            "text": string_value(child.text),
            **common,
        }
    return {
        **attachment_key(child.order_id, child.id),
        "id": string_value(child.id),
        "key": string_value(child.key),
        "filename": string_value(child.filename),
        "content_type": string_value(child.content_type),
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


def event_entry(
    message: EventMessage, region: str = "", child: Note | Attachment | None = None
) -> dict[str, Any]:
    """What an order item keeps of its change's event: its id, and what the event is about
    besides the order, if anything: the sort key of the note or attachment the change adds
    (stored first, in the side table), else the subject itself (a visit). The rest of the
    event is the order and its last history entry: the relay builds the body from the
    stream's new image (:func:`event_from_image`), so that no change writes it twice."""
    entry: dict[str, Any] = {"id": string_value(message.event_id)}
    if child is not None:
        entry["child"] = child_key(child)["sk"]
    elif subject := message.subject:
        entry["subject"] = packed(json.dumps(subject, separators=(",", ":"), sort_keys=True))
    if region:
        entry["region"] = string_value(region)
    return {"M": entry}


def child_key(child: Note | Attachment) -> dict[str, Any]:
    if isinstance(child, Note):
        return note_key(child)
    return attachment_key(child.order_id, child.id)


def subject_of_child(item: dict[str, Any]) -> dict[str, Any]:
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
        "integrator": string_value(order.integrator),
        "title": string_value(order.title),
        "description": string_value(order.description),
        "category": string_value(order.category),
        "priority": string_value(order.priority),
        "site": string_value(order.site),
        "status": string_value(order.status),
        # What integrators count (and the listing indexes project, so a list shows it);
        # `revision` counts every change and is what a write is conditional on.
        "version": {"N": str(order.public_version)},
        "revision": {"N": str(order.version)},
        "created_key": string_value(f"{created_at}#{order.id}"),
        # Index keys, write-sharded by the order's id (orders.repository.sharding).
        "status_shard": string_value(sharded(order.status, order.id, INDEX_SHARDS)),
        "integrator_shard": string_value(sharded(order.integrator, order.id, INDEX_SHARDS)),
        "created_shard": string_value(sharded("", order.id, CREATED_SHARDS)),
        "updated_at": string_value(isoformat(order.public_updated_at)),
        "status_changed_at": string_value(isoformat(order.status_changed_at)),
        "metadata": string_value(
            json.dumps(dict(order.metadata), separators=(",", ":"), sort_keys=True)
        ),
        "history": packed_history(order.history),
    }
    if order.updated_at != order.public_updated_at:
        # Changed since by staff only (an internal note): ``updated_at`` is what integrators see.
        item["changed_at"] = string_value(isoformat(order.updated_at))
    if order.external_reference:
        item["external_reference"] = string_value(order.external_reference)
    if order.contact:
        item["contact"] = {
            "M": {k: string_value(getattr(order.contact, k)) for k in ("name", "phone", "email")}
        }
    if order.requested_window:
        item["requested_window"] = {
            "M": {
                "start": string_value(isoformat(order.requested_window.start)),
                "end": string_value(isoformat(order.requested_window.end)),
            }
        }
    for name in ("sla_due_at", "started_at", "completed_at"):
        value = getattr(order, name)
        if value is not None:
            item[name] = string_value(isoformat(value))
    for name in ("assigned_team", "rejection_reason", "cancellation_reason"):
        value = getattr(order, name)
        if value:
            item[name] = string_value(value)
    if order.sla_met is not None:
        item["sla_met"] = {"BOOL": order.sla_met}
    if order.technician is not None:
        item["technician"] = _technician_to_item(order.technician)
        item["technician_id"] = string_value(order.technician.id)
    if order.visits:
        item["visits"] = {"L": [_visit_to_item(v) for v in order.visits]}
        start = isoformat(order.visits[-1].start)
        item["visit_day"] = string_value(start[:10])
        item["visit_start_key"] = string_value(f"{start}#{order.id}")
    item.update(_places_to_item(order))
    return item


def _places_to_item(order: Order) -> dict[str, Any]:
    """Where the order is and what created it: each place's id as the key of its sparse index
    (``by-site``, ``by-asset``) and its code and name as a map, which holds no id of its own
    (every byte of an order item is written again with each change)."""
    item: dict[str, Any] = {}
    for prefix, ref in (("site", order.site_ref), ("asset", order.asset_ref)):
        if ref is not None:
            item[f"{prefix}_id"] = string_value(ref.id)
            item[f"{prefix}_ref"] = {
                "M": {"code": string_value(ref.code), "name": string_value(ref.name)}
            }
    if (plan := order.maintenance) is not None:
        item["maintenance"] = {
            "M": {
                "plan_id": string_value(plan.plan_id),
                "plan_name": string_value(plan.plan_name),
                "due_at": string_value(isoformat(plan.due_at)),
            }
        }
    return item


def _place_from_item(item: dict[str, Any], prefix: str) -> PlaceRef | None:
    if f"{prefix}_ref" not in item or f"{prefix}_id" not in item:
        return None
    snapshot = item[f"{prefix}_ref"]["M"]
    return PlaceRef(
        id=item[f"{prefix}_id"]["S"], code=snapshot["code"]["S"], name=snapshot["name"]["S"]
    )


def _maintenance_from_item(item: dict[str, Any]) -> MaintenanceRef | None:
    if "maintenance" not in item:
        return None
    plan = item["maintenance"]["M"]
    return MaintenanceRef(
        plan_id=plan["plan_id"]["S"],
        plan_name=plan["plan_name"]["S"],
        due_at=_dt(plan["due_at"]["S"]),
    )


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
        version=revision_of(item),
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
        site_ref=_place_from_item(item, "site"),
        asset_ref=_place_from_item(item, "asset"),
        maintenance=_maintenance_from_item(item),
    )


def _unsharded(item: dict[str, Any], name: str) -> str:
    """An attribute, or (an index entry that does not project it) its shard key's value."""
    if name in item:
        return item[name]["S"]
    return item[f"{name}_shard"]["S"].rpartition("#")[0]


def item_created_key(item: dict[str, Any]) -> str:
    return item["created_key"]["S"]


def order_created_key(order: Order) -> str:
    return f"{isoformat(order.created_at)}#{order.id}"


def revision_of(item: dict[str, Any]) -> int:
    """The order's own version (every change counted). Items written before it was kept apart
    from the integrators' ``version`` counted every change in ``version``."""
    return int(item.get("revision", item["version"])["N"])


def committed(item: dict[str, Any] | None, event_id: str) -> bool:
    """Whether the stored order already holds the change with this event id: the event id is
    the write's own token, so a retry that meets it knows its first try was stored."""
    if not item:
        return False
    return any(entry.event_id == event_id for entry in history_of(item))


def history_values(order: Order) -> dict[str, Any]:
    """The event ids of the order's last changes, as values of a condition (at most 99: an
    ``IN`` list holds 100; older changes' children are not stale orphans anyway)."""
    return {f":h{i}": string_value(entry.event_id) for i, entry in enumerate(order.history[-99:])}


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"

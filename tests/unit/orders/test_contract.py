"""The event contract: what goes on the SNS topic, and what a worker accepts from a queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kernel.clock import isoformat
from orders.domain import rules
from orders.domain.model import Actor, Contact, OrderEvent, TimeWindow
from orders.domain.rules import OrderInput
from orders.events.contract import (
    EventMessage,
    EventMismatch,
    MalformedEvent,
    check_against_order,
    parse_event,
    to_cloudevent,
    to_message,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
WORKER = Actor.system("received-worker")


def created_event() -> OrderEvent:
    _, event = rules.create_order(
        OrderInput(
            title="Fix the boiler",
            category="hvac",
            priority="high",
            site="12 High Street",
            external_reference="PO-1",
            contact=Contact(name="Bo", email="bo@example.com"),
            requested_window=TimeWindow(start=T0, end=T0 + timedelta(hours=2)),
            metadata={"floor": 3},
        ),
        order_id="order-1",
        integrator="acme",
        actor=Actor.integrator("acme"),
        now=T0,
    )
    return event


def accepted_event() -> OrderEvent:
    _, event = rules.move(
        created_event().order, "accepted", actor=WORKER, now=T0 + timedelta(minutes=1)
    )
    return event


def body_of(event: OrderEvent) -> dict:
    return json.loads(to_message(event).body)


def valid_doc() -> dict:
    return body_of(accepted_event())


def malformed(doc_or_body) -> MalformedEvent:
    body = doc_or_body if isinstance(doc_or_body, str | bytes) else json.dumps(doc_or_body)
    with pytest.raises(MalformedEvent) as info:
        parse_event(body)
    return info.value


# -- to_message --------------------------------------------------------------------------------


def test_message_body_is_a_cloudevents_1_0_document():
    event = accepted_event()
    body = body_of(event)
    assert body["specversion"] == "1.0"
    assert body["id"] == event.id
    assert body["subject"] == "order-1"
    assert body["type"] == "order.status_changed"
    assert body["source"] == "urn:work-order-portal:orders"
    assert body["datacontenttype"] == "application/json"
    assert body["eventversion"] == "1"
    assert body["time"] == "2025-03-03T09:01:00.000000Z"


def test_message_body_carries_the_order_after_the_move():
    body = body_of(accepted_event())
    order = body["data"]["order"]
    assert order["id"] == "order-1"
    assert order["status"] == "accepted"
    assert order["version"] == 2
    assert order["priority"] == "high"
    assert order["sla_due_at"] == "2025-03-04T09:00:00.000000Z"
    assert order["contact"] == {"name": "Bo", "phone": "", "email": "bo@example.com"}
    assert order["requested_window"] == {
        "start": "2025-03-03T09:00:00.000000Z",
        "end": "2025-03-03T11:00:00.000000Z",
    }
    assert order["metadata"] == {"floor": 3}
    assert "history" not in order


def test_message_body_carries_the_transition():
    transition = body_of(accepted_event())["data"]["transition"]
    assert transition == {
        "from": "received",
        "to": "accepted",
        "actor": {"kind": "system", "id": "received-worker"},
        "reason": None,
        "at": "2025-03-03T09:01:00.000000Z",
    }


def test_creation_message_has_no_from_status():
    body = body_of(created_event())
    assert body["type"] == "order.created"
    assert body["data"]["transition"]["from"] is None
    assert body["data"]["transition"]["to"] == "received"
    assert body["data"]["order"]["version"] == 1


def test_message_attributes_are_what_the_filter_policies_route_on():
    event = accepted_event()
    message = to_message(event)
    assert isinstance(message, EventMessage)
    assert message.attributes == {
        "status": "accepted",
        "event_type": "order.status_changed",
        "visibility": "public",
    }
    assert message.event_id == event.id
    assert message.order_id == "order-1"
    assert message.group_id == "order-1"
    assert message.created_at == "2025-03-03T09:01:00.000000Z"


def test_message_body_is_the_cloudevent_as_json():
    event = accepted_event()
    assert json.loads(to_message(event).body) == to_cloudevent(event)


def test_isoformat_normalises_to_utc_with_z():
    plus_two = timezone(timedelta(hours=2))
    assert isoformat(datetime(2025, 3, 3, 11, 0, tzinfo=plus_two)) == "2025-03-03T09:00:00.000000Z"
    assert isoformat(None) is None


# -- parse_event -------------------------------------------------------------------------------


@pytest.mark.parametrize("make_event", [created_event, accepted_event])
def test_parse_event_round_trips_a_message(make_event):
    event = make_event()
    received = parse_event(to_message(event).body)
    assert received.id == event.id
    assert received.type == str(event.type)
    assert received.order_id == event.order.id
    assert received.status == str(event.order.status)
    assert received.order_version == event.order.version
    assert received.data == to_cloudevent(event)["data"]


def test_parse_event_accepts_bytes():
    event = accepted_event()
    assert parse_event(to_message(event).body.encode()).id == event.id


def test_parse_event_ignores_unknown_fields():
    doc = valid_doc()
    doc["newfield"] = "x"
    doc["data"]["order"]["newfield"] = "y"
    assert parse_event(json.dumps(doc)).status == "accepted"


@pytest.mark.parametrize("body", ["not json", "", "{", b"\xff\xfe"])
def test_non_json_is_malformed(body):
    malformed(body)


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_malformed(body):
    malformed(body)


@pytest.mark.parametrize("specversion", ["0.3", "1", 1.0, None])
def test_wrong_specversion_is_malformed(specversion):
    doc = valid_doc()
    doc["specversion"] = specversion
    assert "specversion" in str(malformed(doc))


def test_missing_specversion_is_malformed():
    doc = valid_doc()
    del doc["specversion"]
    malformed(doc)


@pytest.mark.parametrize("event_type", ["order.deleted", "", None])
def test_unknown_type_is_malformed(event_type):
    doc = valid_doc()
    doc["type"] = event_type
    assert "type" in str(malformed(doc))


@pytest.mark.parametrize("event_type", [["order.created"], {"t": 1}], ids=["list", "object"])
def test_non_string_type_is_malformed(event_type):
    doc = valid_doc()
    doc["type"] = event_type
    malformed(doc)


@pytest.mark.parametrize(
    "data",
    [None, {}, {"order": None}, {"order": "order-1"}, ["order"]],
    ids=["null", "empty", "null-order", "string-order", "list"],
)
def test_missing_data_order_is_malformed(data):
    doc = valid_doc()
    doc["data"] = data
    assert "data.order" in str(malformed(doc))


def test_missing_event_id_is_malformed():
    doc = valid_doc()
    doc["id"] = ""
    malformed(doc)


def test_subject_that_does_not_match_the_order_is_malformed():
    doc = valid_doc()
    doc["subject"] = "order-2"
    assert "subject" in str(malformed(doc))


def test_missing_subject_is_malformed():
    doc = valid_doc()
    del doc["subject"]
    malformed(doc)


@pytest.mark.parametrize("status", ["done", "", None, "ACCEPTED"])
def test_unknown_status_is_malformed(status):
    doc = valid_doc()
    doc["data"]["order"]["status"] = status
    assert "status" in str(malformed(doc))


@pytest.mark.parametrize(
    "version",
    [0, -1, True, False, "2", 2.0, None],
    ids=["zero", "negative", "true", "false", "string", "float", "null"],
)
def test_version_that_is_not_a_positive_integer_is_malformed(version):
    doc = valid_doc()
    doc["data"]["order"]["version"] = version
    assert "version" in str(malformed(doc))


def test_malformed_event_is_a_value_error():
    assert issubclass(MalformedEvent, ValueError)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("data", "order", "integrator"), None),
        (("data", "order", "integrator"), ""),
        (("data", "transition"), None),
        (("data", "transition", "to"), "scheduled"),
        (("data", "transition", "actor"), None),
    ],
    ids=["no-integrator", "empty-integrator", "no-transition", "transition-elsewhere", "no-actor"],
)
def test_an_event_missing_what_workers_need_is_malformed(path, value):
    doc = valid_doc()
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    malformed(doc)


# -- check_against_order: the event must be the stored order's own ---------------------------


def stored_after_accept():
    """The order as stored once accepted (with its history), and that event's body."""
    created = created_event()
    order, event = rules.move(created.order, "accepted", actor=WORKER, now=T0 + timedelta(1))
    return order, to_message(event).body


def test_a_genuine_event_agrees_with_the_stored_order():
    order, body = stored_after_accept()
    check_against_order(parse_event(body), order)


def test_an_older_genuine_event_agrees_with_the_order_that_moved_on():
    created = created_event()
    order, _ = rules.move(created.order, "accepted", actor=WORKER, now=T0 + timedelta(1))
    check_against_order(parse_event(to_message(created).body), order)


@pytest.mark.parametrize(
    "forge",
    [
        lambda d: d["data"]["order"].update(integrator="mallory"),
        lambda d: d.update(id="another-event-id"),
        lambda d: d["data"]["order"].update(version=7),
        lambda d: d["data"]["transition"]["actor"].update(id="someone-else"),
        lambda d: d["data"]["order"].update(title="Changed on the way"),
    ],
    ids=["other-integrator", "unknown-event-id", "unknown-version", "other-actor", "other-body"],
)
def test_an_event_the_stored_order_does_not_know_is_a_mismatch(forge):
    order, body = stored_after_accept()
    doc = json.loads(body)
    forge(doc)
    with pytest.raises(EventMismatch):
        check_against_order(parse_event(json.dumps(doc)), order)

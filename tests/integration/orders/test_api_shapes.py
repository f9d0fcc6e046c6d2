"""One source per shape: the orders API's output serializers render its bodies and document
them, and rendered over real events of every type they give exactly the event contract's
documents, so the API's order, the documented events and what the topic carries cannot drift.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.renderers import JSONRenderer

from orders.api.event_output import (
    EventFeedOutputSerializer,
    EventOrderOutputSerializer,
    EventOutputSerializer,
    EventTransitionOutputSerializer,
)
from orders.api.output import (
    NoteOutputSerializer,
    OrderEventsOutputSerializer,
    OrderOutputSerializer,
    OrderSummaryOutputSerializer,
    public_history,
)
from orders.domain import rules
from orders.domain.model import (
    Actor,
    Attachment,
    Contact,
    EventType,
    MaintenanceRef,
    OrderEvent,
    PlaceRef,
    TechnicianRef,
    TimeWindow,
    Visibility,
)
from orders.domain.rules import OrderInput
from orders.domain.sla import sla_clock
from orders.events.contract import (
    attachment_to_json,
    note_to_json,
    order_to_json,
    to_cloudevent,
    visit_to_json,
)

T0 = datetime(2026, 3, 2, 9, 0, 0, 250, tzinfo=UTC)
INTEGRATOR = Actor.integrator("acme")
STAFF = Actor.staff("sam")
WORKER = Actor.system("received-worker")


def every_kind_of_event() -> list[OrderEvent]:
    """One order's life through the domain's rules, touching every event type: creation,
    moves, a correction, a technician, a visit booked, moved, checked in and out, notes
    (public and internal) and a file, a hold and its resume, completion."""
    events: list[OrderEvent] = []

    def step(changed: tuple) -> object:
        order, event = changed[0], changed[1]
        events.append(event)
        return order

    at = iter(T0 + timedelta(minutes=n) for n in range(1, 100))
    order = step(
        rules.create_order(
            OrderInput(
                title="Replace HVAC filter",
                category="hvac",
                priority="high",
                site="Store 12, 5th Ave",
                external_reference="WO-1001",
                contact=Contact(name="Dana", phone="+1 555 0100", email="dana@example.com"),
                requested_window=TimeWindow(T0, T0 + timedelta(hours=2)),
                metadata={"floor": 3, "tags": ["roof", None], "nested": {"a": True}},
            ),
            order_id="3f1c5d2e-3b7a-4c1e-9a8d-2f4e6b8c0a13",
            integrator="acme",
            actor=INTEGRATOR,
            now=T0,
            site_ref=PlaceRef("5d0c6f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f", "STORE-0012", "Store 12"),
            asset_ref=PlaceRef("a55e7000-1b2a-4c3d-8e9f-0a1b2c3d4e5f", "RTU-2", "Rooftop unit 2"),
            maintenance=MaintenanceRef("plan-7", "Quarterly filter change", T0 + timedelta(days=3)),
        )
    )
    order = step(rules.move(order, "accepted", actor=WORKER, now=next(at)))
    order = step(rules.move(order, "scheduled", actor=WORKER, now=next(at), team="north"))
    order = step(
        rules.edit(order, {"title": "Replace both HVAC filters"}, actor=STAFF, now=next(at))
    )
    order = step(
        rules.assign_technician(order, TechnicianRef("t-7", "Tess"), actor=STAFF, now=next(at))
    )
    window = TimeWindow(T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    order = step(rules.schedule_visit(order, window, actor=STAFF, now=next(at)))
    later = TimeWindow(window.start + timedelta(hours=1), window.end + timedelta(hours=1))
    order = step(rules.reschedule_visit(order, later, actor=STAFF, now=next(at), reason="traffic"))
    order = step(
        rules.add_note(order, "Dock door B", actor=INTEGRATOR, author_name="Acme", now=next(at))
    )
    order = step(
        rules.add_note(
            order, "Staff only", visibility="internal", actor=STAFF, author_name="Sam", now=next(at)
        )
    )
    attachment = Attachment(
        id="0" * 31 + "1",
        order_id=order.id,
        key="attachments/x",
        filename="photo.jpg",
        content_type="image/jpeg",
        size=2048,
        visibility=Visibility.PUBLIC,
        author=INTEGRATOR,
        author_name="Acme",
        at=next(at),
    )
    order = step(rules.add_attachment(order, attachment, now=attachment.at))
    order = step(rules.move(order, "on_hold", actor=STAFF, now=next(at), reason="parts"))
    order = step(rules.move(order, "scheduled", actor=STAFF, now=next(at)))
    order = step(rules.check_in(order, actor=STAFF, now=later.start))
    order = step(rules.check_out(order, actor=STAFF, now=later.end))
    step(rules.move(order, "completed", actor=STAFF, now=later.end + timedelta(minutes=5)))
    return events


EVENTS = every_kind_of_event()


def as_json(body: object) -> bytes:
    """The bytes the API sends (DRF's renderer): key order and formatting count."""
    return JSONRenderer().render(body)


def test_the_life_above_has_every_event_type():
    assert {str(e.type) for e in EVENTS} == {str(t) for t in EventType}


def test_the_order_s_site_asset_and_plan_render_as_the_contract_says():
    """Every event carries them (the order is at its site from its creation on)."""
    for event in EVENTS:
        order = EventOrderOutputSerializer(event.order).data
        assert order["site_ref"] == {
            "id": "5d0c6f4e-1b2a-4c3d-8e9f-0a1b2c3d4e5f",
            "code": "STORE-0012",
            "name": "Store 12",
        }
        assert order["asset_ref"]["code"] == "RTU-2"
        assert order["maintenance"] == {
            "plan_id": "plan-7",
            "plan_name": "Quarterly filter change",
            "due_at": "2026-03-05T09:00:00.000250Z",
        }
    bare, _ = rules.create_order(
        OrderInput(title="t", category="hvac", site="s"),
        order_id="3f1c5d2e-3b7a-4c1e-9a8d-2f4e6b8c0a14",
        integrator="acme",
        actor=INTEGRATOR,
        now=T0,
    )
    rendered = as_json(OrderSummaryOutputSerializer(bare).data)
    assert rendered.startswith(as_json(order_to_json(bare))[:-1])
    assert json.loads(rendered)["site_ref"] is None and json.loads(rendered)["maintenance"] is None


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.type}-v{e.order.version}")
def test_the_documented_event_renders_exactly_as_the_contract_builds_it(event):
    """The Event component's serializers, rendering the domain's event, give the contract's
    document byte for byte: every member documented, none missing, none extra, same order."""
    assert as_json(EventOutputSerializer(event).data) == as_json(to_cloudevent(event))


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.type}-v{e.order.version}")
def test_each_part_of_an_event_is_the_api_s_own_part(event):
    """The order, transition and subject of each event are the API's own output classes."""
    data = to_cloudevent(event)["data"]
    assert as_json(EventOrderOutputSerializer(event.order).data) == as_json(
        order_to_json(event.order)
    )
    transition = EventTransitionOutputSerializer(event.history_entry).data
    assert as_json(transition) == as_json(data["transition"])
    if "note" in data:
        assert as_json(NoteOutputSerializer(event.subject).data) == as_json(
            note_to_json(event.subject)
        )
    if "attachment" in data:
        assert data["attachment"] == attachment_to_json(event.subject)
    if "visit" in data:
        assert data["visit"] == visit_to_json(event.subject)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e.type}-v{e.order.version}")
def test_the_api_s_order_is_the_event_s_order_with_its_history_sla_and_links(event):
    order = event.order
    clock = sla_clock(order, now=T0 + timedelta(hours=2))
    body = OrderOutputSerializer(order, context={"sla": clock}).data
    summary = OrderSummaryOutputSerializer(order).data
    expected_order = order_to_json(order)

    assert list(body) == [*expected_order, "history", "sla", "links"]
    assert list(summary) == [*expected_order, "links"]
    assert as_json({k: body[k] for k in expected_order}) == as_json(expected_order)
    assert as_json({k: summary[k] for k in expected_order}) == as_json(expected_order)
    assert (
        body["links"]
        == summary["links"]
        == {
            "self": f"/v1/orders/{order.id}",
            "events": f"/v1/orders/{order.id}/events",
            "transitions": f"/v1/orders/{order.id}/transitions",
            "notes": f"/v1/orders/{order.id}/notes",
        }
    )
    assert (body["sla"] is None) == (clock is None)


def test_the_history_counts_only_what_the_integrator_sees():
    """Internal changes are left out and the versions have no gap (Order.public_version)."""
    order = EVENTS[-1].order
    history = OrderEventsOutputSerializer(order).data["results"]
    assert [h["version"] for h in history] == list(range(1, order.public_version + 1))
    assert len(history) == len(order.history) - 1  # the internal note
    assert [h["event_id"] for h in history] == [h.event_id for h in public_history(order)]
    first = history[0]
    assert list(first) == ["event_id", "version", "type", "from", "to", "actor", "reason", "at"]
    assert first["type"] == "order.created" and first["from"] is None


def test_the_feed_hands_out_the_stored_events_as_they_are():
    """The feed's events are put in verbatim: a member a later contract adds is not lost."""
    stored = json.loads(json.dumps(to_cloudevent(EVENTS[0])))
    stored["a_member_from_later"] = 1
    page = {"results": [stored], "next_cursor": "c", "next": "http://x/v1/events?after=c"}
    assert EventFeedOutputSerializer(page).data["results"] == [stored]

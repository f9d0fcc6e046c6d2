"""Notes over the API, the SLA clock and the visit in GET /v1/orders/{id}, and staff's internal
notes kept from the integrator everywhere it reads: notes, history, event feed, webhooks."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain.model import Actor, TimeWindow

from .conftest import client_for, make_integrator
from .factories import EXAMPLE

STAFF = Actor.staff("alice")


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.EVENT_FEED_SETTLE_SECONDS = 0


def post(client, path: str, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def create(api) -> dict:
    response = post(api, "/v1/orders", {**EXAMPLE, "external_reference": uuid.uuid4().hex})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def team(db):
    from orders.models import Team, Technician

    crew, _ = Team.objects.update_or_create(
        code="hvac-crew",
        defaults={"name": "HVAC", "categories": ["hvac"], "capacity": 50, "active": True},
    )
    Technician.objects.update_or_create(
        code="ana", defaults={"team": crew, "name": "Ana García", "active": True}
    )
    return crew


def scheduled(api, team) -> dict:
    """An order of the caller's that the workers have scheduled to ``team``."""
    from orders.container import order_service

    order = create(api)
    service = order_service()
    service.review(order_id=order["id"], version=1, actor=Actor.system("worker:received"))
    service.schedule(order_id=order["id"], version=2, actor=Actor.system("worker:accepted"))
    return api.get(f"/v1/orders/{order['id']}").json()


def test_an_integrator_adds_a_note_and_reads_it_back(api, aws):
    order = create(api)

    added = post(api, f"/v1/orders/{order['id']}/notes", {"text": "  Dock B, ask for Maria "})

    assert added.status_code == 201, added.content
    note = added.json()
    assert note["text"] == "Dock B, ask for Maria"
    assert note["visibility"] == "public"
    assert note["author"]["kind"] == "integrator" and note["author"]["name"] == "Acme"
    listed = api.get(f"/v1/orders/{order['id']}/notes").json()
    assert [n["id"] for n in listed["results"]] == [note["id"]]
    seen = api.get(f"/v1/orders/{order['id']}").json()
    assert seen["version"] == 2
    assert seen["history"][-1]["type"] == "order.note_added"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 12}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"text": "ok", "visibility": "secret"}, "visibility"),
        ({"text": "ok", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_note_is_400_naming_the_field_and_nothing_is_stored(api, aws, body, field):
    order = create(api)
    response = post(api, f"/v1/orders/{order['id']}/notes", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert api.get(f"/v1/orders/{order['id']}/notes").json()["results"] == []
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == 1


def test_an_integrator_cannot_write_an_internal_note(api, aws):
    order = create(api)
    response = post(api, f"/v1/orders/{order['id']}/notes", {"text": "x", "visibility": "internal"})
    assert response.status_code == 403
    assert response.json()["type"].endswith(":forbidden")
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == 1


def test_another_integrators_order_has_no_notes_to_read_or_write(api, aws, db):
    order = create(api)
    other = client_for(make_integrator("Other"))
    assert other.get(f"/v1/orders/{order['id']}/notes").status_code == 404
    assert post(other, f"/v1/orders/{order['id']}/notes", {"text": "hi"}).status_code == 404


def test_a_note_on_a_stale_version_is_412(api, aws):
    order = create(api)
    post(api, f"/v1/orders/{order['id']}/notes", {"text": "first"})
    stale = post(api, f"/v1/orders/{order['id']}/notes", {"text": "second"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert len(api.get(f"/v1/orders/{order['id']}/notes").json()["results"]) == 1


def test_internal_notes_never_reach_the_integrator(api, aws, relay, integrator):
    from orders.container import order_service

    order = create(api)
    service = order_service()
    service.add_note(
        order_id=order["id"],
        text="Customer is difficult",
        visibility="internal",
        actor=STAFF,
        author_name="Alice",
    )
    service.add_note(order_id=order["id"], text="We come Tuesday", actor=STAFF, author_name="Alice")
    relay.poll()

    notes = api.get(f"/v1/orders/{order['id']}/notes").json()["results"]
    assert [n["text"] for n in notes] == ["We come Tuesday"]
    body = api.get(f"/v1/orders/{order['id']}").content.decode()
    assert "Customer is difficult" not in body
    history = api.get(f"/v1/orders/{order['id']}/events").json()["results"]
    assert [h["type"] for h in history] == ["order.created", "order.note_added"]
    assert [h["version"] for h in history] == [1, 3]  # version 2 is the internal note
    feed = api.get("/v1/events?limit=50").json()["results"]
    mine = [e for e in feed if e["subject"] == order["id"]]
    assert [e["type"] for e in mine] == ["order.created", "order.note_added"]
    assert mine[1]["data"]["note"]["text"] == "We come Tuesday"
    assert "Customer is difficult" not in json.dumps(feed)
    # Staff see both, and the internal one is on the topic for staff's own subscribers.
    assert [n.text for n in service.notes(order["id"])] == [
        "Customer is difficult",
        "We come Tuesday",
    ]


class RecordingNotifier:
    def __init__(self) -> None:
        self.events: list = []

    def notify(self, event, *, integrator: str) -> int:
        self.events.append(event)
        return 1


def test_internal_events_are_not_sent_to_webhooks(api, aws):
    from orders.container import order_service
    from orders.events.contract import parse_event

    order = create(api)
    service = order_service()
    service.add_note(
        order_id=order["id"], text="internal", visibility="internal", actor=STAFF, author_name="A"
    )
    # The event exactly as committed with the note (what the workers receive from SNS).
    item = aws.dynamodb.get_item(
        TableName=aws.resources.table,
        Key={"pk": {"S": f"ORDER#{order['id']}"}, "sk": {"S": "ORDER"}},
    )["Item"]
    event = parse_event(item["last_event"]["M"]["body"]["S"])
    assert event.internal is True
    recorder = RecordingNotifier()
    service.notifier, saved = recorder, service.notifier
    try:
        assert service.notify(event, service.verified_order(event)) == 0
        service.add_note(order_id=order["id"], text="public", actor=STAFF, author_name="A")
        item = aws.dynamodb.get_item(
            TableName=aws.resources.table,
            Key={"pk": {"S": f"ORDER#{order['id']}"}, "sk": {"S": "ORDER"}},
        )["Item"]
        public = parse_event(item["last_event"]["M"]["body"]["S"])
        assert service.notify(public, service.verified_order(public)) == 1
    finally:
        service.notifier = saved
    assert [e.id for e in recorder.events] == [public.id]


def test_the_order_shows_its_sla_clock_hold_technician_and_visit(api, aws, team):
    from orders.container import order_service

    order = scheduled(api, team)
    assert order["status"] == "scheduled"
    clock = order["sla"]
    assert clock["running"] is True and clock["paused"] is False and clock["breached"] is False
    assert clock["budget_seconds"] == 24 * 3600  # EXAMPLE is high priority
    assert clock["calendar"] == "24/7"

    service = order_service()
    service.transition_order(order_id=order["id"], to="on_hold", actor=STAFF, reason="Parts")
    held = api.get(f"/v1/orders/{order['id']}").json()
    assert held["hold"]["reason"] == "Parts" and held["hold"]["resume_to"] == "scheduled"
    assert held["sla"]["paused"] is True and held["sla_due_at"] is None
    service.resume_order(order_id=order["id"], actor=STAFF)

    service.assign_technician(order_id=order["id"], technician_id="ana", actor=STAFF)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    service.schedule_visit(
        order_id=order["id"], window=TimeWindow(start, start + timedelta(hours=3)), actor=STAFF
    )
    seen = api.get(f"/v1/orders/{order['id']}").json()
    assert seen["hold"] is None and seen["sla"]["paused_seconds"] > 0
    assert seen["technician"]["name"] == "Ana García"
    assert seen["visit"]["start"].startswith(start.strftime("%Y-%m-%dT%H:%M:%S"))
    assert seen["visit"]["checked_in_at"] is None


def test_integrators_cannot_put_an_order_on_hold(api, aws, team):
    order = scheduled(api, team)
    response = post(
        api, f"/v1/orders/{order['id']}/transitions", {"to": "on_hold", "reason": "parts"}
    )
    assert response.status_code == 409
    assert "on_hold" not in response.json()["allowed"]

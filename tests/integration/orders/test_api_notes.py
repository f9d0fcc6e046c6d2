"""Notes over the API, holds that integrators may not make, and the SLA clock, hold, technician
and visit in GET /v1/orders/{id}."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain.model import Actor, TimeWindow
from tests.integration.conftest import client_for, make_integrator
from tests.integration.factories import EXAMPLE

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


def scheduled(api, team) -> dict:
    """An order of the caller's that the workers have scheduled to ``team``."""
    from portal.container import order_services

    order = create(api)
    service = order_services()
    service.pipeline.review(order_id=order["id"], version=1, actor=Actor.system("worker:received"))
    service.assignment.schedule(
        order_id=order["id"], version=2, actor=Actor.system("worker:accepted")
    )
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


def test_a_retried_note_is_added_once(api, aws):
    order = create(api)
    path = f"/v1/orders/{order['id']}/notes"
    first = post(api, path, {"text": "Gate code 4321"}, HTTP_IDEMPOTENCY_KEY="note-1")
    again = post(api, path, {"text": "Gate code 4321"}, HTTP_IDEMPOTENCY_KEY="note-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert len(api.get(path).json()["results"]) == 1
    other = post(api, path, {"text": "Gate code 9999"}, HTTP_IDEMPOTENCY_KEY="note-1")
    assert other.status_code == 422
    assert len(api.get(path).json()["results"]) == 1


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


def test_the_order_shows_its_sla_clock_hold_technician_and_visit(api, aws, crew):
    from portal.container import order_services

    order = scheduled(api, crew)
    assert order["status"] == "scheduled"
    clock = order["sla"]
    assert clock["running"] is True and clock["paused"] is False and clock["breached"] is False
    assert clock["budget_seconds"] == 24 * 3600  # EXAMPLE is high priority
    assert clock["calendar"] == "24/7"

    service = order_services()
    service.intake.transition_order(order_id=order["id"], to="on_hold", actor=STAFF, reason="Parts")
    held = api.get(f"/v1/orders/{order['id']}").json()
    assert held["hold"]["reason"] == "Parts" and held["hold"]["resume_to"] == "scheduled"
    assert held["sla"]["paused"] is True and held["sla_due_at"] is None
    service.intake.resume_order(order_id=order["id"], actor=STAFF)

    service.field_work.assign_technician(order_id=order["id"], technician_id="ana", actor=STAFF)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    service.field_work.schedule_visit(
        order_id=order["id"], window=TimeWindow(start, start + timedelta(hours=3)), actor=STAFF
    )
    seen = api.get(f"/v1/orders/{order['id']}").json()
    assert seen["hold"] is None and seen["sla"]["paused_seconds"] > 0
    assert seen["technician"]["name"] == "Ana García"
    assert seen["visit"]["start"].startswith(start.strftime("%Y-%m-%dT%H:%M:%S"))
    assert seen["visit"]["checked_in_at"] is None


def test_integrators_cannot_put_an_order_on_hold(api, aws, crew):
    order = scheduled(api, crew)
    response = post(
        api, f"/v1/orders/{order['id']}/transitions", {"to": "on_hold", "reason": "parts"}
    )
    assert response.status_code == 409
    assert response.json()["allowed"] == ["cancelled", "in_progress"]
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "scheduled"


def test_only_staff_resume_a_held_order(api, aws, crew):
    from portal.container import order_services

    order = scheduled(api, crew)
    order_services().intake.transition_order(
        order_id=order["id"], to="on_hold", actor=STAFF, reason="x"
    )
    response = post(api, f"/v1/orders/{order['id']}/transitions", {"to": "scheduled"})
    assert response.status_code == 409
    assert response.json()["allowed"] == ["cancelled"]
    cancelled = post(api, f"/v1/orders/{order['id']}/transitions", {"to": "cancelled"})
    assert cancelled.status_code == 200 and cancelled.json()["hold"] is None

"""One due time for an order's SLA: ``sla_due_at`` (the order in the API, its events and
webhooks) and the API's ``sla.due_at`` say the same in every status — a held order has none,
and gets it back, later by the time held, when staff resume it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain.model import Actor
from tests.integration.factories import EXAMPLE

STAFF = Actor.staff("alice")


class Clock:
    """The portal's time, moved on by the test: hours pass without waiting for them."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(aws, monkeypatch) -> Clock:
    """The order service's and its reads' clock, for this test only."""
    from portal.container import order_services

    fake = Clock()
    service = order_services()
    monkeypatch.setattr(service.changes, "clock", fake)
    monkeypatch.setattr(service.read, "clock", fake)
    return fake


def scheduled(api, **fields) -> str:
    """An order of the caller's, reviewed and scheduled by the workers' steps; its id."""
    from portal.container import order_services

    body = {**EXAMPLE, "external_reference": uuid.uuid4().hex, **fields}
    response = api.post("/v1/orders", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    service = order_services()
    service.pipeline.review(order_id=order_id, version=1, actor=Actor.system("worker:received"))
    service.assignment.schedule(order_id=order_id, version=2, actor=Actor.system("worker:accepted"))
    return order_id


def read(api, order_id: str) -> dict:
    """The order as its integrator reads it, after checking both due times agree."""
    order = api.get(f"/v1/orders/{order_id}").json()
    assert order["sla_due_at"] == order["sla"]["due_at"], order["sla"]
    return order


def published(aws, relay, status: str, order_id: str) -> list[dict]:
    """The order's events that reached ``status``'s queue since the test's relay started."""
    relay.poll()
    bodies = [json.loads(m["Body"]) for m in aws.drain(aws.status_queue(status))]
    return [b["data"]["order"] for b in bodies if b["subject"] == order_id]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_held_order_has_no_due_time_anywhere_and_gets_it_back_later_by_the_time_held(
    api, aws, relay, crew, clock
):
    from portal.container import order_services

    order_id = scheduled(api)  # high priority: 24 hours
    due = at(read(api, order_id)["sla"]["due_at"])
    assert due == clock.now + timedelta(hours=24)
    aws.drain(aws.status_queue("on_hold"))

    clock.advance(hours=1)
    order_services().intake.transition_order(
        order_id=order_id, to="on_hold", actor=STAFF, reason="Parts"
    )
    held = read(api, order_id)
    assert held["sla_due_at"] is None  # and sla.due_at with it
    assert held["sla"]["paused"] is True and held["sla"]["running"] is False
    assert held["sla"]["remaining_seconds"] == 23 * 3600
    [event] = published(aws, relay, "on_hold", order_id)
    assert event["sla_due_at"] is None

    clock.advance(hours=5)  # still held: nothing falls due, nothing is used up
    later = read(api, order_id)
    assert later["sla"]["due_at"] is None
    assert later["sla"]["remaining_seconds"] == 23 * 3600
    assert later["sla"]["paused_seconds"] == 5 * 3600

    aws.drain(aws.status_queue("scheduled"))
    order_services().intake.resume_order(order_id=order_id, actor=STAFF)
    resumed = read(api, order_id)
    assert at(resumed["sla"]["due_at"]) == due + timedelta(hours=5)
    assert resumed["sla"]["paused"] is False and resumed["sla"]["running"] is True
    [event] = published(aws, relay, "scheduled", order_id)
    assert event["sla_due_at"] == resumed["sla"]["due_at"]


def test_a_breached_order_keeps_its_breach_moment_except_while_held(api, aws, crew, clock):
    from portal.container import order_services

    order_id = scheduled(api, priority="urgent")  # 4 hours
    breached_at = clock.now + timedelta(hours=4)

    clock.advance(hours=6)
    late = read(api, order_id)
    assert late["sla"]["breached"] is True and late["sla"]["remaining_seconds"] == 0
    assert at(late["sla_due_at"]) == breached_at

    order_services().intake.transition_order(
        order_id=order_id, to="on_hold", actor=STAFF, reason="Keys"
    )
    clock.advance(hours=1)
    held = read(api, order_id)
    assert held["sla_due_at"] is None
    assert held["sla"]["breached"] is True and held["sla"]["paused"] is True

    order_services().intake.resume_order(order_id=order_id, actor=STAFF)
    clock.advance(hours=1)
    assert at(read(api, order_id)["sla_due_at"]) == breached_at

    for status in ("in_progress", "completed"):
        order_services().intake.transition_order(order_id=order_id, to=status, actor=STAFF)
    done = read(api, order_id)
    assert at(done["sla_due_at"]) == breached_at
    assert done["sla_met"] is False and done["sla"]["running"] is False


def test_an_order_cancelled_while_held_agrees_too(api, aws, crew, clock):
    from portal.container import order_services

    order_id = scheduled(api, priority="normal")
    clock.advance(hours=2)
    order_services().intake.transition_order(
        order_id=order_id, to="on_hold", actor=STAFF, reason="x"
    )
    clock.advance(hours=3)
    response = api.post(
        f"/v1/orders/{order_id}/transitions",
        data=json.dumps({"to": "cancelled"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["sla_due_at"] == response.json()["sla"]["due_at"]
    clock.advance(days=10)
    cancelled = read(api, order_id)
    assert cancelled["sla"]["running"] is False and cancelled["sla"]["paused"] is False
    assert cancelled["sla"]["remaining_seconds"] == 70 * 3600

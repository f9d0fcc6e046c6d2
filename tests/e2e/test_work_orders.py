"""Working an order through real processes: staff hold and resume it, book a technician's
visit, and the integrator sees it over HTTP; every change reaches the topic and its queue."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from orders.domain.model import Actor, TimeWindow
from tests.integration.factories import EXAMPLE
from tests.support import services_on, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

STAFF = Actor.staff("dispatcher")


@pytest.fixture(scope="module")
def technician(portal, django_db_blocker):
    """A member of the hvac team, committed so that every process sees it; removed after."""
    from orders.models import Team, Technician

    with django_db_blocker.unblock():
        member = Technician.objects.create(
            team=Team.objects.get(code="hvac-crew"),
            code=f"tech-{uuid.uuid4().hex[:6]}",
            name="Ana García",
        )
    yield member
    with django_db_blocker.unblock():
        member.delete()


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tapped_types(portal, order_id: str, wanted: set[str]) -> dict[str, dict]:
    """The events the topic carried for the order, by type, once all of ``wanted`` came."""
    seen: dict[str, dict] = {}

    def collect() -> bool:
        for message in portal.aws.drain(portal.tap):
            body = json.loads(message["Body"])
            if body["subject"] == order_id:
                seen[body["type"]] = body
        return wanted <= set(seen)

    wait_for(collect, timeout=30, what=f"events {sorted(wanted)} of {order_id}")
    return seen


def test_an_order_held_and_resumed_is_due_later_by_exactly_the_time_held(portal):
    created = portal.post_order({**EXAMPLE, "external_reference": f"HOLD-{uuid.uuid4().hex[:8]}"})
    scheduled = portal.wait_for_status(created["id"], "scheduled")
    due_before = _dt(scheduled["sla"]["due_at"])
    assert scheduled["sla"]["paused_seconds"] == 0

    from portal.container import order_services

    with services_on(portal.aws):
        service = order_services()
        service.intake.transition_order(
            order_id=created["id"], to="on_hold", actor=STAFF, reason="Waiting for parts"
        )
        held = portal.get_order(created["id"])
        assert held["status"] == "on_hold"
        assert held["hold"]["reason"] == "Waiting for parts"
        assert held["hold"]["resume_to"] == "scheduled"
        assert held["sla"]["paused"] is True
        service.intake.resume_order(order_id=created["id"], actor=STAFF)

    resumed = portal.get_order(created["id"])
    assert resumed["status"] == "scheduled"
    hold_entry, resume_entry = resumed["history"][-2:]
    held_for = _dt(resume_entry["at"]) - _dt(hold_entry["at"])
    assert _dt(resumed["sla"]["due_at"]) == due_before + held_for
    assert resumed["sla"]["paused_seconds"] == pytest.approx(held_for.total_seconds(), abs=1e-3)
    assert resumed["sla"]["breached"] is False
    # Both moves went out on the topic, each routed to its status's queue by the workers.
    events = tapped_types(portal, created["id"], {"order.status_changed"})
    assert events["order.status_changed"]["data"]["order"]["id"] == created["id"]


def test_the_integrator_sees_the_technician_and_the_visit_window(portal, technician):
    from portal.container import order_services

    created = portal.post_order({**EXAMPLE, "external_reference": f"VISIT-{uuid.uuid4().hex[:8]}"})
    scheduled = portal.wait_for_status(created["id"], "scheduled")
    assert scheduled["assigned_team"] == "hvac-crew"
    code = technician.code
    start = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    window = TimeWindow(start=start, end=start + timedelta(hours=2))

    with services_on(portal.aws):
        service = order_services()
        service.field_work.assign_technician(
            order_id=created["id"], technician_id=code, actor=STAFF
        )
        service.field_work.schedule_visit(order_id=created["id"], window=window, actor=STAFF)

    seen = portal.get_order(created["id"])
    assert seen["technician"]["name"] == "Ana García"
    assert _dt(seen["visit"]["start"]) == window.start
    assert _dt(seen["visit"]["end"]) == window.end
    assert seen["visit"]["technician"]["name"] == "Ana García"
    events = tapped_types(portal, created["id"], {"order.visit_scheduled"})
    assert _dt(events["order.visit_scheduled"]["data"]["visit"]["start"]) == window.start

    with services_on(portal.aws):
        service = order_services()
        service.field_work.check_in(order_id=created["id"], actor=STAFF)
        service.field_work.check_out(order_id=created["id"], actor=STAFF)
    started = portal.get_order(created["id"])
    assert started["status"] == "in_progress"
    assert started["visit"]["checked_in_at"] and started["visit"]["checked_out_at"]
    done = requests.post(
        f"{portal.base_url}/v1/orders/{created['id']}/transitions",
        json={"to": "completed"},
        headers=portal.auth,
        timeout=10,
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert done.json()["sla"]["breached"] is False
    assert done.json()["sla_met"] is True

"""A maintenance plan makes its orders end to end, through the real API, the scheduler role
(``portal.role scheduler``), DynamoDB, the relay and the status workers:

- a plan whose occurrence is due in the test's own minute creates one order that reaches
  ``scheduled`` carrying its site, its asset and the plan;
- a scheduler killed half-way (after the order's write, before it recorded the occurrence),
  then two schedulers run, still make one order for the occurrence, and the plan records it.

The kill is placed, not hoped for: the test holds the occurrences table (``LOCK TABLE … IN
EXCLUSIVE MODE``) so the scheduler's record waits after its order is written; the test sees
the order, kills the scheduler, ends its database session, and lets go."""

from __future__ import annotations

import os
import signal
import sys
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests

from maintenance.ports import occurrence_order_id
from tests.support import Processes, wait_for

from .conftest import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
ZONE = "Europe/Madrid"


def call(portal, method: str, path: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method, f"{portal.base_url}{path}", json=body, headers=portal.auth, timeout=10
    )


@pytest.fixture
def rooftop_unit(portal) -> dict:
    """A store in Madrid and a rooftop unit in it, over the API."""
    tag = uuid.uuid4().hex[:6].upper()
    site = call(
        portal,
        "post",
        "/v1/sites",
        {
            "code": f"PM-{tag}",
            "name": f"Store {tag}",
            "kind": "site",
            "time_zone": ZONE,
        },
    )
    assert site.status_code == 201, site.text
    asset = call(
        portal,
        "post",
        "/v1/assets",
        {
            "code": f"RTU-{tag}",
            "name": "Rooftop unit 1",
            "site": site.json()["id"],
            "category": "Rooftop unit",
        },
    )
    assert asset.status_code == 201, asset.text
    return {"site": site.json(), "asset": asset.json()}


def plan_due_this_minute(portal, asset: dict, name: str) -> dict:
    """A daily plan on ``asset`` whose first occurrence is due in the current minute (made
    again if the minute turned while it was made)."""
    for _ in range(3):
        now = datetime.now(ZoneInfo(ZONE))
        created = call(
            portal,
            "post",
            "/v1/maintenance-plans",
            {
                "name": name,
                "asset_id": asset["id"],
                "recurrence": "FREQ=DAILY",
                "starts_on": now.date().isoformat(),
                "at": now.strftime("%H:%M"),
                "window_hours": 2,
                "order": {"title": f"{name}: check", "category": "hvac", "priority": "high"},
            },
        )
        assert created.status_code == 201, created.text
        plan = created.json()
        due = datetime.fromisoformat(plan["next_due_at"].replace("Z", "+00:00"))
        if due <= datetime.now(ZoneInfo(ZONE)):
            return plan
        call(portal, "post", f"/v1/maintenance-plans/{plan['id']}/archive")
    raise AssertionError("could not make a plan due in this minute")


def order_of(portal, plan: dict) -> str:
    due = datetime.fromisoformat(plan["next_due_at"].replace("Z", "+00:00"))
    return occurrence_order_id(plan["id"], due)


def scheduler_argv(*extra: str) -> list[str]:
    return [sys.executable, "-m", "portal.role", "scheduler", *extra]


def scheduler_env(portal) -> dict[str, str]:
    return {**portal.env, "SCHEDULER_INTERVAL_SECONDS": "0.2", "METRICS_PORT": "0"}


def test_a_plan_due_this_minute_makes_one_order_that_reaches_scheduled(portal, rooftop_unit):
    plan = plan_due_this_minute(portal, rooftop_unit["asset"], "Walk-in cooler")
    order_id = order_of(portal, plan)
    processes = Processes()
    try:
        processes.start("scheduler-a", scheduler_argv(), scheduler_env(portal))
        processes.start("scheduler-b", scheduler_argv(), scheduler_env(portal))
        wait_for(
            lambda: call(portal, "get", f"/v1/orders/{order_id}").status_code == 200,
            timeout=30,
            what="the plan's order",
        )
        order = portal.wait_for_status(order_id, "scheduled", timeout=60)
    finally:
        processes.stop_all()
    site, asset = rooftop_unit["site"], rooftop_unit["asset"]
    assert order["site_ref"] == {"id": site["id"], "code": site["code"], "name": site["name"]}
    assert order["asset_ref"] == {"id": asset["id"], "code": asset["code"], "name": asset["name"]}
    assert order["maintenance"]["plan_id"] == plan["id"]
    assert order["maintenance"]["plan_name"] == "Walk-in cooler"
    assert order["maintenance"]["due_at"] == plan["next_due_at"]
    assert order["requested_window"]["start"] == plan["next_due_at"]
    assert order["title"] == "Walk-in cooler: check" and order["priority"] == "high"
    assert order["site"] == site["name"]
    listed = call(portal, "get", f"/v1/orders?asset_id={asset['id']}").json()["results"]
    assert [o["id"] for o in listed] == [order_id]
    occurrences = call(
        portal, "get", f"/v1/maintenance-plans/{plan['id']}/occurrences?past=true"
    ).json()["results"]
    assert [(o["state"], o["order_id"]) for o in occurrences] == [("created", order_id)]
    call(portal, "post", f"/v1/maintenance-plans/{plan['id']}/archive")


def test_a_scheduler_killed_half_way_then_run_twice_makes_one_order(portal, rooftop_unit):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("places the kill with a PostgreSQL table lock; CI runs on PostgreSQL")
    plan = plan_due_this_minute(portal, rooftop_unit["asset"], "Boiler")
    order_id = order_of(portal, plan)
    processes = Processes()
    holder = psycopg.connect(database_url(connection.settings_dict))
    try:
        holder.execute("LOCK TABLE maintenance_planoccurrence IN EXCLUSIVE MODE")
        doomed = processes.start(
            "scheduler-doomed", scheduler_argv("--once"), scheduler_env(portal)
        )
        wait_for(
            lambda: call(portal, "get", f"/v1/orders/{order_id}").status_code == 200,
            timeout=30,
            what="the doomed scheduler's order",
        )
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        # The server learns of the kill when it next writes to the dead client: end its
        # session now, as it would, so its lock on the plan goes.
        holder.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ("%maintenance_planoccurrence%",),
        )
        holder.rollback()  # lets go of the table
        first = processes.start("scheduler-again", scheduler_argv(), scheduler_env(portal))
        second = processes.start("scheduler-twice", scheduler_argv(), scheduler_env(portal))
        wait_for(
            lambda: call(
                portal, "get", f"/v1/maintenance-plans/{plan['id']}/occurrences?past=true"
            ).json()["results"],
            timeout=30,
            what="the occurrence recorded",
        )
        assert first.poll() is None and second.poll() is None
    finally:
        holder.close()
        processes.stop_all()
    occurrences = call(
        portal, "get", f"/v1/maintenance-plans/{plan['id']}/occurrences?past=true"
    ).json()["results"]
    assert [(o["state"], o["order_id"]) for o in occurrences] == [("created", order_id)]
    asset = rooftop_unit["asset"]
    listed = call(portal, "get", f"/v1/orders?asset_id={asset['id']}").json()["results"]
    assert [o["id"] for o in listed] == [order_id]
    order = portal.wait_for_status(order_id, "scheduled", timeout=60)
    assert order["maintenance"]["plan_id"] == plan["id"]
    call(portal, "post", f"/v1/maintenance-plans/{plan['id']}/archive")

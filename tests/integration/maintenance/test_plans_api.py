"""Maintenance plans over the API: create at a site or on an asset and read the schedule in
words and the next occurrences; bad input is a 400 naming each field and stores nothing;
another integrator's site, an archived site, a retired asset and an asset elsewhere are
refused; change with If-Match; pause, resume, archive and restore; skip an occurrence and
take it back; another integrator's plan is a 404."""

from __future__ import annotations

import uuid

import pytest

from facilities.ports import NoOrdersAnywhere
from facilities.services import archive_site
from maintenance.models import MaintenancePlan
from tests.integration.conftest import client_for, make_integrator
from tests.integration.facilities.conftest import send

from .conftest import plan_body

pytestmark = pytest.mark.usefixtures("aws")


def test_a_plan_on_an_asset_is_created_at_its_site_with_its_schedule_in_words(planner, unit):
    created = send(planner, "post", "/v1/maintenance-plans", plan_body(asset_id=str(unit.pk)))
    assert created.status_code == 201, created.content
    plan = created.json()
    assert created["Location"] == f"/v1/maintenance-plans/{plan['id']}"
    assert created["ETag"] == '"1"'
    assert plan["site"] == {"id": str(unit.site_id), "code": unit.site.code, "name": "Store 12"}
    assert plan["asset"] == {"id": str(unit.pk), "code": unit.code, "name": "Rooftop unit 1"}
    assert plan["schedule"] == "Every month on day 1 at 07:00"
    assert plan["time_zone"] == "Europe/Madrid" and plan["at"] == "07:00"
    assert plan["state"] == "active" and plan["version"] == 1
    assert plan["order"] == {
        "title": "Change the filters",
        "category": "hvac",
        "priority": "normal",
        "description": "",
    }
    assert plan["next_due_at"].endswith("T06:00:00.000000Z")  # 07:00 in Madrid, winter
    read = planner.get(f"/v1/maintenance-plans/{plan['id']}")
    assert read.status_code == 200 and read.json() == plan
    assert (
        planner.get(f"/v1/maintenance-plans/{plan['id']}", HTTP_IF_NONE_MATCH='"1"').status_code
        == 304
    )

    coming = planner.get(f"/v1/maintenance-plans/{plan['id']}/occurrences?limit=3").json()
    assert [o["state"] for o in coming["results"]] == ["planned"] * 3
    first = coming["results"][0]
    assert first["due_at"] == plan["next_due_at"] and first["order"] is None
    assert first["order_at"] == plan["next_order_at"]


def test_bad_input_is_a_400_naming_each_field_and_stores_nothing(planner, store):
    bad = plan_body(
        site_id=str(store.pk),
        recurrence="FREQ=HOURLY",
        starts_on="2027-13-01",
        at="25:00",
        lead_days=-1,
        order={"title": "", "category": "gardening"},
        colour="red",
    )
    refused = send(planner, "post", "/v1/maintenance-plans", bad)
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert {
        "recurrence",
        "starts_on",
        "at",
        "lead_days",
        "order.title",
        "order.category",
        "colour",
    } <= set(errors), errors
    assert "FREQ must be one of" in errors["recurrence"][0]
    assert not MaintenancePlan.objects.exists()


def test_places_that_cannot_take_work_are_refused_on_their_field(planner, owner, store, unit):
    stranger = make_integrator("Stranger")
    from facilities.services import create_site

    theirs = create_site(
        stranger.model, {"code": "THEIRS", "name": "Theirs", "kind": "site", "time_zone": "UTC"}
    )
    other_site = create_site(
        owner.model, {"code": "OTHER", "name": "Other", "kind": "site", "time_zone": "UTC"}
    )
    cases = [
        ({"site_id": str(theirs.pk)}, "site_id", "No site of yours"),
        ({"asset_id": str(uuid.uuid4())}, "asset_id", "No asset of yours"),
        (
            {"site_id": str(other_site.pk), "asset_id": str(unit.pk)},
            "asset_id",
            f"at {store.code}, not at OTHER",
        ),
    ]
    for place, field, says in cases:
        refused = send(planner, "post", "/v1/maintenance-plans", plan_body(**place))
        assert refused.status_code == 400, refused.content
        assert says in refused.json()["errors"][field][0]
    unit.status = "retired"
    unit.save()
    refused = send(planner, "post", "/v1/maintenance-plans", plan_body(asset_id=str(unit.pk)))
    assert "retired" in refused.json()["errors"]["asset_id"][0]
    archive_site(other_site, usage=NoOrdersAnywhereUsage())
    refused = send(planner, "post", "/v1/maintenance-plans", plan_body(site_id=str(other_site.pk)))
    assert "archived" in refused.json()["errors"]["site_id"][0]
    assert not MaintenancePlan.objects.exists()


class NoOrdersAnywhereUsage:
    def archive_blockers(self, site):
        return []


def test_a_plan_changes_with_if_match_and_keeps_its_place(planner, store):
    plan = send(planner, "post", "/v1/maintenance-plans", plan_body(site_id=str(store.pk))).json()
    path = f"/v1/maintenance-plans/{plan['id']}"
    changed = send(
        planner,
        "patch",
        path,
        {"recurrence": "FREQ=WEEKLY;BYDAY=MO", "order": {"priority": "high"}},
        HTTP_IF_MATCH='"1"',
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["schedule"] == "Every week on Monday at 07:00"
    assert body["order"]["priority"] == "high" and body["order"]["title"] == "Change the filters"
    assert body["version"] == 2 and changed["ETag"] == '"2"'
    stale = send(planner, "patch", path, {"name": "Late"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    moved = send(planner, "patch", path, {"site_id": str(store.pk)})
    assert moved.status_code == 400


def test_pause_resume_archive_and_restore(planner, store):
    plan = send(planner, "post", "/v1/maintenance-plans", plan_body(site_id=str(store.pk))).json()
    path = f"/v1/maintenance-plans/{plan['id']}"
    paused = send(planner, "post", f"{path}/pause").json()
    assert paused["state"] == "paused" and paused["paused_at"] is not None
    coming = planner.get(f"{path}/occurrences?limit=2").json()["results"]
    assert [o["state"] for o in coming] == ["paused", "paused"]
    assert send(planner, "post", f"{path}/resume").json()["state"] == "active"
    archived = send(planner, "post", f"{path}/archive").json()
    assert archived["state"] == "archived"
    assert planner.get(f"{path}/occurrences").json()["results"] == []
    listed = planner.get("/v1/maintenance-plans").json()["results"]
    assert plan["id"] not in [p["id"] for p in listed]
    assert plan["id"] in [
        p["id"] for p in planner.get("/v1/maintenance-plans?state=archived").json()["results"]
    ]
    refused = send(planner, "patch", path, {"name": "Again"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("plan-archived")
    assert send(planner, "post", f"{path}/restore").json()["state"] == "active"


def test_an_occurrence_is_skipped_with_a_reason_and_the_skip_taken_back(planner, store):
    plan = send(planner, "post", "/v1/maintenance-plans", plan_body(site_id=str(store.pk))).json()
    path = f"/v1/maintenance-plans/{plan['id']}"
    second = planner.get(f"{path}/occurrences?limit=2").json()["results"][1]
    skipped = send(
        planner,
        "post",
        f"{path}/occurrences/skip",
        {"due_at": second["due_at"], "reason": "Store closed for stocktaking"},
    )
    assert skipped.status_code == 200, skipped.content
    assert skipped.json()["state"] == "skipped"
    assert skipped.json()["reason"] == "Store closed for stocktaking"
    again = send(
        planner, "post", f"{path}/occurrences/skip", {"due_at": second["due_at"], "reason": "x"}
    )
    assert again.status_code == 409 and again.json()["type"].endswith("occurrence-taken")
    not_one = send(
        planner,
        "post",
        f"{path}/occurrences/skip",
        {"due_at": "2031-01-02T03:04:05Z", "reason": "x"},
    )
    assert not_one.status_code == 400 and "due_at" in not_one.json()["errors"]
    undone = send(planner, "post", f"{path}/occurrences/unskip", {"due_at": second["due_at"]})
    assert undone.status_code == 204
    states = [o["state"] for o in planner.get(f"{path}/occurrences?limit=2").json()["results"]]
    assert states == ["planned", "planned"]


def test_another_integrators_plan_is_not_found_and_lists_page_with_cursors(planner, store):
    for name in ("A", "B", "C"):
        send(planner, "post", "/v1/maintenance-plans", plan_body(site_id=str(store.pk), name=name))
    first = planner.get("/v1/maintenance-plans?limit=2").json()
    assert [p["name"] for p in first["results"]] == ["A", "B"]
    rest = planner.get(f"/v1/maintenance-plans?limit=2&cursor={first['next_cursor']}").json()
    assert [p["name"] for p in rest["results"]] == ["C"] and rest["next_cursor"] is None
    by_site = planner.get(f"/v1/maintenance-plans?site={store.pk}").json()["results"]
    assert len(by_site) == 3

    stranger = client_for(make_integrator("Stranger"))
    plan_id = first["results"][0]["id"]
    assert stranger.get(f"/v1/maintenance-plans/{plan_id}").status_code == 404
    assert stranger.get("/v1/maintenance-plans").json()["results"] == []
    assert NoOrdersAnywhere().at_site(str(store.pk)).open == []

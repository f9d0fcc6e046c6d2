"""Assets over the API: create at one of the caller's active sites, read, list with filters and
cursors, change with If-Match, move, mark down, retire and reinstate; another integrator's
asset (or site) is not the caller's; bad input is a 400 naming the field and stores nothing;
a site is not archived while equipment is at it; nothing is ever deleted."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from facilities.models import Asset, Site
from facilities.ports import OrderLine, OrdersAt
from tests.integration.conftest import client_for, make_integrator

from .conftest import REGION, STORE, send

# Archiving a site and retiring an asset ask the orders (in DynamoDB) which are still open.
pytestmark = pytest.mark.usefixtures("aws")

RTU = {
    "code": "RTU-0012-01",
    "name": "Rooftop unit 1",
    "site_code": "STORE-0012",
    "category": "Rooftop unit",
    "make": "Carrier",
    "model": "48FC",
    "serial_number": "4821G20311",
    "installed_on": "2021-05-14",
    "notes": "Above the loading dock.",
}


@pytest.fixture
def rtu(sites, store) -> dict:
    """A rooftop unit at the store, created over the API; its body."""
    created = send(sites, "post", "/v1/assets", RTU)
    assert created.status_code == 201, created.content
    return created.json()


def test_an_asset_is_created_at_a_site_with_its_location_and_etag(sites, store, rtu):
    assert created_fields(rtu) == {**RTU, "site": store["id"], "site_name": store["name"]}
    assert rtu["status"] == "in_service" and rtu["version"] == 1
    assert rtu["created_at"] == rtu["updated_at"] == rtu["status_changed_at"]
    assert rtu["links"] == {
        "self": f"http://testserver/v1/assets/{rtu['id']}",
        "site": f"http://testserver/v1/sites/{store['id']}",
    }
    read = sites.get(f"/v1/assets/{rtu['id']}")
    assert read.status_code == 200 and read.json() == rtu and read["ETag"] == '"1"'
    assert sites.get(f"/v1/assets/{rtu['id']}", HTTP_IF_NONE_MATCH='"1"').status_code == 304


def created_fields(body: dict) -> dict:
    return {k: v for k, v in body.items() if k in {*RTU, "site", "site_name"}}


def test_the_answer_to_a_create_points_at_the_new_asset(sites, store):
    created = send(sites, "post", "/v1/assets", {"code": "A1", "name": "A", "site": store["id"]})
    assert created.status_code == 201
    assert created["Location"] == f"/v1/assets/{created.json()['id']}"
    assert created["ETag"] == '"1"'
    assert created.json()["site_code"] == "STORE-0012"
    assert created.json()["installed_on"] is None and created.json()["category"] == ""


def test_bad_input_is_a_400_naming_each_field_and_stores_nothing(sites, store):
    bad = {
        **RTU,
        "code": "RTU 1",
        "name": " ",
        "installed_on": "2021-02-30",
        "status": "broken",
        "serial_number": 12,
        "colour": "red",
    }
    refused = send(sites, "post", "/v1/assets", bad)
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert set(errors) == {"code", "name", "installed_on", "status", "serial_number", "colour"}
    assert errors["installed_on"] == ["Use a date as YYYY-MM-DD, such as 2024-03-31."]
    future = send(sites, "post", "/v1/assets", {**RTU, "installed_on": "2999-01-01"})
    assert future.json()["errors"] == {"installed_on": ["Must not be in the future."]}
    no_site = {k: v for k, v in RTU.items() if k != "site_code"}
    assert list(send(sites, "post", "/v1/assets", no_site).json()["errors"]) == ["site"]
    both = {**RTU, "site": store["id"]}
    assert send(sites, "post", "/v1/assets", both).json()["errors"] == {
        "site": ["Give site or site_code, not both."]
    }
    assert not Asset.objects.exists()


def test_the_site_must_be_the_callers_active_site_not_a_region(sites, store):
    other = client_for(make_integrator("Other"))
    theirs = send(other, "post", "/v1/sites", {**REGION, "kind": "site"}).json()
    by_id = send(sites, "post", "/v1/assets", {"code": "A1", "name": "A", "site": theirs["id"]})
    assert by_id.status_code == 400
    assert by_id.json()["errors"] == {"site": ["No site of yours has this id."]}
    unknown = send(sites, "post", "/v1/assets", {**RTU, "site_code": "NOWHERE"})
    assert unknown.json()["errors"] == {"site_code": ["No site of yours has the code NOWHERE."]}
    region = send(sites, "post", "/v1/assets", {**RTU, "site_code": "REGION-NE"})
    assert region.status_code == 400 and "is a region" in region.json()["errors"]["site_code"][0]
    send(sites, "post", f"/v1/sites/{store['id']}/archive")
    archived = send(sites, "post", "/v1/assets", RTU)
    assert archived.status_code == 400
    assert archived.json()["errors"] == {
        "site_code": ["The site STORE-0012 is archived: restore it first, or choose another."]
    }
    assert not Asset.objects.exists()


def test_a_code_is_unique_among_the_integrators_assets(sites, store, rtu):
    again = send(sites, "post", "/v1/assets", {**RTU, "name": "Another"})
    assert again.status_code == 409
    body = again.json()
    assert body["type"].endswith(":duplicate-code")
    assert body["existing_asset"] == f"/v1/assets/{rtu['id']}"
    assert list(body["errors"]) == ["code"]
    # Another integrator may use the same code.
    other = client_for(make_integrator("Other"))
    send(other, "post", "/v1/sites", {**STORE, "parent_code": None})
    assert send(other, "post", "/v1/assets", RTU).status_code == 201


def test_another_integrators_asset_is_a_404_everywhere(rtu):
    other = client_for(make_integrator("Other"))
    path = f"/v1/assets/{rtu['id']}"
    assert other.get(path).status_code == 404
    assert send(other, "patch", path, {"name": "Mine"}).status_code == 404
    assert send(other, "post", f"{path}/retire").status_code == 404
    assert send(other, "post", f"{path}/reinstate").status_code == 404
    assert other.get("/v1/assets").json()["results"] == []
    assert other.get("/v1/assets/not-a-uuid").status_code == 404
    assert other.get(f"/v1/assets/{uuid.uuid4()}").json()["type"].endswith(":not-found")


def test_the_list_filters_and_pages_by_code(sites, store):
    send(sites, "post", "/v1/sites", {**STORE, "code": "STORE-0013", "name": "Store 13"})
    made = [
        ("AHU-1", "Air handler", "STORE-0012", "Air handler", "SN-100"),
        ("AHU-2", "Air handler 2", "STORE-0013", "air handler", "SN-200"),
        ("CH-1", "Chiller", "STORE-0012", "Chiller", "X-1"),
        ("RTU-1", "Rooftop unit", "STORE-0013", "Rooftop unit", "SN-300"),
    ]
    for code, name, site, category, serial in made:
        body = {"code": code, "name": name, "site_code": site, "category": category}
        assert (
            send(sites, "post", "/v1/assets", {**body, "serial_number": serial}).status_code == 201
        )

    def codes(query: str) -> list[str]:
        listed = sites.get(f"/v1/assets{query}")
        assert listed.status_code == 200, listed.content
        return [a["code"] for a in listed.json()["results"]]

    assert codes("") == ["AHU-1", "AHU-2", "CH-1", "RTU-1"]
    assert codes(f"?site={store['id']}") == ["AHU-1", "CH-1"]
    assert codes("?site_code=STORE-0013") == ["AHU-2", "RTU-1"]
    assert codes("?category=AIR%20HANDLER") == ["AHU-1", "AHU-2"]  # any case
    assert codes("?code=CH-1") == ["CH-1"]
    assert codes("?q=air") == ["AHU-1", "AHU-2"]  # the name starts with it
    assert codes("?q=sn-") == ["AHU-1", "AHU-2", "RTU-1"]  # the serial number
    assert codes("?q=rtu") == ["RTU-1"]  # the code
    assert codes("?status=down") == []

    first = sites.get("/v1/assets?limit=3").json()
    assert [a["code"] for a in first["results"]] == ["AHU-1", "AHU-2", "CH-1"]
    assert first["next"].startswith("http://testserver/v1/assets?limit=3&cursor=")
    second = sites.get(first["next"]).json()
    assert [a["code"] for a in second["results"]] == ["RTU-1"] and second["next"] is None
    other_listing = sites.get(f"/v1/assets?q=air&cursor={first['next_cursor']}")
    assert other_listing.status_code == 400
    assert other_listing.json()["type"].endswith(":invalid-cursor")
    bad = sites.get("/v1/assets?status=broken&site=nope&limit=0")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"status", "site", "limit"}


def test_a_change_moves_the_version_on_and_if_match_refuses_a_stale_one(sites, store, rtu):
    path = f"/v1/assets/{rtu['id']}"
    changed = send(sites, "patch", path, {"name": "RTU 1", "installed_on": None})
    assert changed.status_code == 200 and changed["ETag"] == '"2"'
    body = changed.json()
    assert body["name"] == "RTU 1" and body["installed_on"] is None and body["version"] == 2
    assert body["make"] == "Carrier"  # what the change does not name stays
    assert body["status_changed_at"] == rtu["status_changed_at"]
    stale = send(sites, "patch", path, {"name": "Stale"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2 and stale.json()["type"].endswith(":stale-version")
    down = send(sites, "patch", path, {"status": "down"}, HTTP_IF_MATCH='"2"')
    assert down.status_code == 200 and down.json()["status"] == "down"
    assert (
        down.json()["version"] == 3 and down.json()["status_changed_at"] > rtu["status_changed_at"]
    )
    same = send(sites, "patch", path, {"status": "down", "name": "RTU 1"})
    assert same.json()["version"] == 3  # a change that changes nothing keeps the version
    assert Asset.objects.get(pk=rtu["id"]).name == "RTU 1"


def test_an_asset_moves_to_another_active_site(sites, store, rtu):
    other = send(sites, "post", "/v1/sites", {**STORE, "code": "STORE-0013", "name": "Store 13"})
    path = f"/v1/assets/{rtu['id']}"
    moved = send(sites, "patch", path, {"site_code": "STORE-0013"})
    assert moved.status_code == 200
    assert moved.json()["site"] == other.json()["id"] and moved.json()["site_name"] == "Store 13"
    send(sites, "post", f"/v1/sites/{store['id']}/archive")
    refused = send(sites, "patch", path, {"site": store["id"]})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["site"]
    assert Asset.objects.get(pk=rtu["id"]).site_id == uuid.UUID(other.json()["id"])


def test_retire_and_reinstate(sites, store, rtu):
    path = f"/v1/assets/{rtu['id']}"
    retired = send(sites, "post", f"{path}/retire", HTTP_IF_MATCH='"1"')
    assert retired.status_code == 200 and retired["ETag"] == '"2"'
    assert retired.json()["status"] == "retired" and retired.json()["version"] == 2
    again = send(sites, "post", f"{path}/retire")
    assert again.status_code == 200 and again.json()["version"] == 2  # as it was
    frozen = send(sites, "patch", path, {"name": "X"})
    assert frozen.status_code == 409 and frozen.json()["type"].endswith(":asset-retired")
    assert sites.get("/v1/assets").json()["results"] == []
    listed = sites.get("/v1/assets?status=retired").json()["results"]
    assert [a["code"] for a in listed] == [RTU["code"]]

    back = send(sites, "post", f"{path}/reinstate", HTTP_IF_MATCH='"2"')
    assert back.status_code == 200 and back.json()["status"] == "in_service"
    assert back.json()["version"] == 3
    assert send(sites, "post", f"{path}/reinstate").json()["version"] == 3  # not retired: as is
    stale = send(sites, "post", f"{path}/retire", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412 and Asset.objects.get(pk=rtu["id"]).status == "in_service"


def test_a_retired_asset_comes_back_only_to_an_active_site(sites, store, rtu):
    path = f"/v1/assets/{rtu['id']}"
    send(sites, "post", f"{path}/retire")
    assert send(sites, "post", f"/v1/sites/{store['id']}/archive").status_code == 200
    refused = send(sites, "post", f"{path}/reinstate")
    assert refused.status_code == 409 and refused.json()["type"].endswith(":site-archived")
    assert "STORE-0012" in refused.json()["detail"]
    send(sites, "post", f"/v1/sites/{store['id']}/restore")
    assert send(sites, "post", f"{path}/reinstate").json()["status"] == "in_service"


class OpenOrders:
    """The orders' answer while one order is open at the asset."""

    def at_site(self, site_id: str, *, limit: int = 20) -> OrdersAt:
        return OrdersAt(open=[], past=[])

    def at_asset(self, asset_id: str, *, limit: int = 20) -> OrdersAt:
        line = OrderLine(
            id="o-1",
            title="Replace the belt",
            status="Scheduled",
            priority="High",
            created_at=datetime(2026, 3, 1),
            open=True,
            url="/admin/orders/workorder/o-1/",
        )
        return OrdersAt(open=[line], past=[])


class ActivePlan:
    def active_plans_at_asset(self, asset_id: str) -> list[str]:
        return ["Quarterly filter change"]


def test_retiring_is_refused_while_open_orders_or_plans_need_the_asset(monkeypatch, sites, rtu):
    from facilities.api import asset_views

    monkeypatch.setattr(asset_views, "place_orders", OpenOrders)
    monkeypatch.setattr(asset_views, "planned_work", ActivePlan)
    path = f"/v1/assets/{rtu['id']}"
    for refused in (
        send(sites, "post", f"{path}/retire"),
        send(sites, "patch", path, {"status": "retired", "name": "Not saved"}),
    ):
        assert refused.status_code == 409 and refused.json()["type"].endswith(":asset-in-use")
        assert refused.json()["reasons"] == [
            "1 open order is at it (Replace the belt): complete or cancel it first.",
            "1 active maintenance plan is on it (Quarterly filter change): pause or end it first.",
        ]
    asset = Asset.objects.get(pk=rtu["id"])
    assert asset.status == "in_service" and asset.name == RTU["name"] and asset.version == 1


def test_a_site_is_not_archived_while_equipment_is_at_it(sites, store, rtu):
    site = f"/v1/sites/{store['id']}"
    in_use = send(sites, "post", f"{site}/archive")
    assert in_use.status_code == 409 and in_use.json()["type"].endswith(":site-in-use")
    assert in_use.json()["reasons"] == [
        "1 asset is still at it (RTU-0012-01): retire or move it first."
    ]
    down = send(sites, "patch", f"/v1/assets/{rtu['id']}", {"status": "down"})
    assert down.status_code == 200
    assert send(sites, "post", f"{site}/archive").status_code == 409  # down is still there
    send(sites, "post", f"/v1/assets/{rtu['id']}/retire")
    archived = send(sites, "post", f"{site}/archive")
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert Site.objects.get(pk=store["id"]).archived


def test_assets_are_never_deleted(sites, rtu):
    deleted = sites.delete(f"/v1/assets/{rtu['id']}")
    assert deleted.status_code == 405 and "DELETE" not in deleted["Allow"]
    assert sites.delete("/v1/assets").status_code == 405
    assert Asset.objects.filter(pk=rtu["id"]).exists()


def test_a_post_with_an_idempotency_key_is_replayed_not_repeated(sites, store):
    key = {"HTTP_IDEMPOTENCY_KEY": f"asset-{uuid.uuid4()}"}
    first = send(sites, "post", "/v1/assets", RTU, **key)
    again = send(sites, "post", "/v1/assets", RTU, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Asset.objects.count() == 1
    retire = f"/v1/assets/{first.json()['id']}/retire"
    key = {"HTTP_IDEMPOTENCY_KEY": f"retire-{uuid.uuid4()}"}
    assert send(sites, "post", retire, **key).json()["version"] == 2
    assert send(sites, "post", retire, **key)["Idempotent-Replayed"] == "true"

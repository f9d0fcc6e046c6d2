"""Sites over the API: create, read, list with filters and cursors, change with If-Match,
archive and restore; another integrator's site is a 404; bad input is a 400 naming the field
and stores nothing; POSTs replay with an Idempotency-Key; nothing is ever deleted."""

from __future__ import annotations

import uuid

from facilities.models import Site
from tests.integration.conftest import client_for, make_integrator

from .conftest import REGION, STORE, send


def test_a_site_is_created_with_its_location_and_etag(sites, store):
    assert store["code"] == "STORE-0012" and store["kind"] == "site"
    assert store["parent_code"] == "REGION-NE" and store["version"] == 1
    assert store["address"]["country"] == "US" and store["address"]["line2"] == ""
    assert store["access_hours"] == STORE["access_hours"]
    assert store["contacts"] == [{**STORE["contacts"][0], "email": ""}]
    assert store["archived"] is False and store["archived_at"] is None
    region = Site.objects.get(code="REGION-NE")
    assert store["parent"] == str(region.pk)
    read = sites.get(f"/v1/sites/{store['id']}")
    assert read.status_code == 200 and read.json() == store
    assert read["ETag"] == '"1"'
    assert sites.get(f"/v1/sites/{store['id']}", HTTP_IF_NONE_MATCH='"1"').status_code == 304


def test_the_answer_to_a_create_points_at_the_new_site(sites):
    created = send(sites, "post", "/v1/sites", REGION)
    assert created["Location"] == f"/v1/sites/{created.json()['id']}"
    assert created["ETag"] == '"1"'


def test_bad_input_is_a_400_naming_each_field_and_stores_nothing(sites):
    bad = {
        **STORE,
        "parent_code": None,
        "time_zone": "Mars/Olympus",
        "address": {"country": "XX"},
        "access_hours": [{"days": ["mon"], "opens": "25:00", "closes": "18:00"}],
        "contacts": [{"name": "A", "email": "not-an-email"}],
        "colour": "red",
    }
    refused = send(sites, "post", "/v1/sites", bad)
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert {
        "time_zone",
        "address.country",
        "access_hours[0].opens",
        "contacts[0].email",
        "colour",
    } <= set(errors), errors
    assert not Site.objects.exists()


def test_rules_beyond_the_shape_are_400s_naming_the_field_too(sites):
    # A time zone of the right shape that no one has, and a parent that does not exist.
    refused = send(sites, "post", "/v1/sites", {**STORE, "time_zone": "Europe/Atlantis"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["time_zone"]
    refused = send(sites, "post", "/v1/sites", {**STORE, "parent_code": "NOWHERE"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["parent_code"]
    assert not Site.objects.exists()


def test_a_parent_must_take_the_kind(sites, store):
    floor = {"code": "F1", "name": "Floor 1", "kind": "floor", "time_zone": "UTC"}
    under_region = send(sites, "post", "/v1/sites", {**floor, "parent_code": "REGION-NE"})
    assert under_region.status_code == 400
    assert (
        "A floor may only be under a site or a building"
        in under_region.json()["errors"]["parent_code"][0]
    )
    under_store = send(sites, "post", "/v1/sites", {**floor, "parent": store["id"]})
    assert under_store.status_code == 201 and under_store.json()["parent_code"] == "STORE-0012"


def test_a_code_is_unique_among_the_integrators_sites(sites, store):
    again = send(sites, "post", "/v1/sites", {**STORE, "name": "Another"})
    assert again.status_code == 409
    body = again.json()
    assert body["type"].endswith(":duplicate-code")
    assert body["existing_site"] == f"/v1/sites/{store['id']}"
    # Another integrator may use the same code.
    other = client_for(make_integrator("Other"))
    assert send(other, "post", "/v1/sites", {**REGION}).status_code == 201


def test_another_integrators_site_is_a_404_everywhere(store):
    other = client_for(make_integrator("Other"))
    path = f"/v1/sites/{store['id']}"
    assert other.get(path).status_code == 404
    assert send(other, "patch", path, {"name": "Mine"}).status_code == 404
    assert send(other, "post", f"{path}/archive").status_code == 404
    assert other.get("/v1/sites").json()["results"] == []
    assert other.get("/v1/sites/not-a-uuid").status_code == 404
    assert other.get(f"/v1/sites/{uuid.uuid4()}").json()["type"].endswith(":not-found")


def test_a_change_moves_the_version_on_and_if_match_refuses_a_stale_one(sites, store):
    path = f"/v1/sites/{store['id']}"
    changed = send(sites, "patch", path, {"name": "Store 12", "address": {"city": "NYC"}})
    assert changed.status_code == 200 and changed["ETag"] == '"2"'
    body = changed.json()
    assert body["name"] == "Store 12" and body["version"] == 2
    assert body["address"]["city"] == "NYC" and body["address"]["line1"] == "512 5th Ave"
    stale = send(sites, "patch", path, {"name": "Stale"}, HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2 and stale.json()["type"].endswith(":stale-version")
    fresh = send(sites, "patch", path, {"name": "Fresh"}, HTTP_IF_MATCH='"2"')
    assert fresh.status_code == 200 and fresh.json()["version"] == 3
    malformed = send(sites, "patch", path, {"name": "X"}, HTTP_IF_MATCH="yesterday")
    assert malformed.status_code == 400 and list(malformed.json()["errors"]) == ["If-Match"]
    assert Site.objects.get(pk=store["id"]).name == "Fresh"


def test_a_change_that_changes_nothing_keeps_the_version(sites, store):
    same = send(sites, "patch", f"/v1/sites/{store['id']}", {"name": STORE["name"]})
    assert same.status_code == 200 and same.json()["version"] == 1


def test_a_change_cannot_make_a_loop_or_strand_the_sites_below(sites, store):
    region = send(sites, "get", "/v1/sites?kind=region").json()["results"][0]
    looped = send(sites, "patch", f"/v1/sites/{region['id']}", {"parent": store["id"]})
    assert looped.status_code == 400 and "own ancestor" in looped.json()["errors"]["parent"][0]
    stranded = send(sites, "patch", f"/v1/sites/{region['id']}", {"kind": "building"})
    assert stranded.status_code == 400 and list(stranded.json()["errors"]) == ["kind"]
    to_top = send(sites, "patch", f"/v1/sites/{store['id']}", {"parent": None})
    assert to_top.status_code == 200 and to_top.json()["parent"] is None


def test_archive_and_restore(aws, sites, store):
    # Archiving asks the orders (in DynamoDB) whether open ones are at the site.
    region = Site.objects.get(code="REGION-NE")
    in_use = send(sites, "post", f"/v1/sites/{region.pk}/archive")
    assert in_use.status_code == 409 and in_use.json()["type"].endswith(":site-in-use")
    assert "STORE-0012" in in_use.json()["reasons"][0]

    archived = send(sites, "post", f"/v1/sites/{store['id']}/archive")
    assert archived.status_code == 200
    assert archived.json()["archived"] is True and archived.json()["version"] == 2
    again = send(sites, "post", f"/v1/sites/{store['id']}/archive")
    assert again.status_code == 200 and again.json()["version"] == 2  # as it was
    frozen = send(sites, "patch", f"/v1/sites/{store['id']}", {"name": "X"})
    assert frozen.status_code == 409 and frozen.json()["type"].endswith(":site-archived")
    listed = sites.get("/v1/sites").json()["results"]
    assert [s["code"] for s in listed] == ["REGION-NE"]
    assert [s["code"] for s in sites.get("/v1/sites?archived=true").json()["results"]] == [
        "STORE-0012"
    ]

    assert send(sites, "post", f"/v1/sites/{region.pk}/archive").status_code == 200
    blocked = send(sites, "post", f"/v1/sites/{store['id']}/restore")
    assert blocked.status_code == 409 and blocked.json()["type"].endswith(":parent-archived")
    assert send(sites, "post", f"/v1/sites/{region.pk}/restore").status_code == 200
    restored = send(sites, "post", f"/v1/sites/{store['id']}/restore", HTTP_IF_MATCH='"2"')
    assert restored.status_code == 200 and restored.json()["archived"] is False
    assert restored.json()["version"] == 3


def test_sites_are_never_deleted(sites, store):
    deleted = sites.delete(f"/v1/sites/{store['id']}")
    assert deleted.status_code == 405 and "DELETE" not in deleted["Allow"]
    assert deleted["Content-Type"] == "application/problem+json"
    assert sites.delete("/v1/sites").status_code == 405
    assert Site.objects.filter(pk=store["id"]).exists()


def test_a_post_with_an_idempotency_key_is_replayed_not_repeated(aws, sites):
    key = {"HTTP_IDEMPOTENCY_KEY": f"site-{uuid.uuid4()}"}
    first = send(sites, "post", "/v1/sites", REGION, **key)
    again = send(sites, "post", "/v1/sites", REGION, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert Site.objects.count() == 1
    other_body = send(sites, "post", "/v1/sites", {**REGION, "code": "R2"}, **key)
    assert other_body.status_code == 422
    archive = f"/v1/sites/{first.json()['id']}/archive"
    key = {"HTTP_IDEMPOTENCY_KEY": f"archive-{uuid.uuid4()}"}
    assert send(sites, "post", archive, **key).json()["version"] == 2
    assert send(sites, "post", archive, **key)["Idempotent-Replayed"] == "true"

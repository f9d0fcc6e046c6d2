"""Orders at the integrator's sites and assets, over HTTP against DynamoDB: created with
`site_id` and `asset_id` (the order keeps their code and name), every refusal a 400 naming its
field with nothing stored or published, lists by site and by asset with cursors, events that
carry both, and a site that open orders are at is not archived until they are done."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from facilities.models import Asset, Site
from tests.integration.conftest import client_for, make_integrator

from .test_api_input import assert_nothing_stored, assert_refused

ORDER = {"title": "Rooftop unit blows warm air", "category": "hvac", "priority": "high"}


@dataclass
class Places:
    store: Site
    roof: Site
    other_store: Site
    closed_store: Site
    rtu: Asset
    old_chiller: Asset
    theirs: Site
    their_asset: Asset
    #: The other integrator, whose store and asset those are.
    them: object


def site(integrator, code: str, name: str, *, kind: str = "site", parent=None, **extra) -> Site:
    now = timezone.now()
    return Site.objects.create(
        integrator=integrator.model,
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        time_zone="America/New_York",
        created_at=now,
        updated_at=now,
        **extra,
    )


def asset(integrator, at: Site, code: str, name: str, **extra) -> Asset:
    now = timezone.now()
    return Asset.objects.create(
        integrator=integrator.model,
        site=at,
        code=code,
        name=name,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        **extra,
    )


@pytest.fixture
def places(integrator) -> Places:
    """The caller's region, a store with its roof (a floor) holding a rooftop unit, another
    store, an archived store and a retired chiller; another integrator's store and asset."""
    region = site(integrator, "REGION-NE", "Northeast", kind="region")
    store = site(integrator, "STORE-0012", "Store 12, 5th Ave", parent=region)
    roof = site(integrator, "STORE-0012-ROOF", "Store 12 roof", kind="floor", parent=store)
    other = make_integrator("Globex")
    theirs = site(other, "G-1", "Globex depot")
    return Places(
        store=store,
        roof=roof,
        other_store=site(integrator, "STORE-0013", "Store 13", parent=region),
        closed_store=site(integrator, "STORE-0001", "Store 1", archived_at=timezone.now()),
        rtu=asset(integrator, roof, "RTU-2", "Rooftop unit 2"),
        old_chiller=asset(integrator, store, "CH-1", "Chiller", status=Asset.RETIRED),
        theirs=theirs,
        their_asset=asset(other, theirs, "G-RTU", "Their unit"),
        them=other,
    )


def post(api, **fields):
    return api.post(
        "/v1/orders", data=json.dumps({**ORDER, **fields}), content_type="application/json"
    )


def created(api, **fields) -> dict:
    response = post(api, **fields)
    assert response.status_code == 201, response.content
    return response.json()


def ref(place) -> dict:
    return {"id": str(place.pk), "code": place.code, "name": place.name}


# -- create -------------------------------------------------------------------------------------


def test_an_order_at_a_site_keeps_its_code_and_name_and_needs_no_site_text(api, places):
    order = created(api, site_id=str(places.store.pk))
    assert order["site_ref"] == ref(places.store)
    assert order["site"] == "Store 12, 5th Ave"
    assert order["asset_ref"] is None and order["maintenance"] is None
    assert "site_id" not in order and "asset_id" not in order
    read = api.get(f"/v1/orders/{order['id']}").json()
    assert read["site_ref"] == order["site_ref"] and read["version"] == 1


def test_an_asset_alone_puts_the_order_at_the_asset_s_site(api, places):
    order = created(api, asset_id=str(places.rtu.pk).upper())  # a UUID in any case
    assert order["asset_ref"] == ref(places.rtu)
    assert order["site_ref"] == ref(places.roof) and order["site"] == "Store 12 roof"


def test_an_asset_under_the_site_named_and_the_integrator_s_own_words(api, places):
    order = created(
        api, site_id=str(places.store.pk), asset_id=str(places.rtu.pk), site="Roof hatch, aisle 9"
    )
    assert order["site_ref"] == ref(places.store) and order["asset_ref"] == ref(places.rtu)
    assert order["site"] == "Roof hatch, aisle 9"


def test_a_later_rename_of_the_site_does_not_rewrite_the_order(api, places):
    order = created(api, site_id=str(places.store.pk))
    Site.objects.filter(pk=places.store.pk).update(name="Store 12 (renovated)")
    assert api.get(f"/v1/orders/{order['id']}").json()["site_ref"]["name"] == "Store 12, 5th Ave"
    assert created(api, site_id=str(places.store.pk))["site"] == "Store 12 (renovated)"


REFUSALS = {
    "unknown-site": (lambda p: {"site_id": str(uuid.uuid4())}, "site_id", "No site of yours"),
    "their-site": (lambda p: {"site_id": str(p.theirs.pk)}, "site_id", "No site of yours"),
    "archived-site": (
        lambda p: {"site_id": str(p.closed_store.pk)},
        "site_id",
        "The site STORE-0001 is archived",
    ),
    "malformed-site": (lambda p: {"site_id": "store-12"}, "site_id", "Must be a site id"),
    "their-asset": (lambda p: {"asset_id": str(p.their_asset.pk)}, "asset_id", "No asset of"),
    "retired-asset": (lambda p: {"asset_id": str(p.old_chiller.pk)}, "asset_id", "retired"),
    "asset-elsewhere": (
        lambda p: {"site_id": str(p.other_store.pk), "asset_id": str(p.rtu.pk)},
        "asset_id",
        "is at the site STORE-0012-ROOF (Store 12 roof), not at STORE-0013",
    ),
    "no-site-at-all": (lambda p: {}, "site", "required unless site_id or asset_id"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_is_a_400_naming_its_field_and_nothing_is_stored(api, relay, places, case):
    body, field, problem = REFUSALS[case]
    refused = assert_refused(post(api, **body(places)), 400, field)
    assert problem in refused["errors"][field][0], refused
    assert_nothing_stored(api, relay)


def test_the_places_refusals_come_with_every_other_problem_of_the_body(api, relay, places):
    backwards = {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}
    refused = assert_refused(
        post(
            api,
            site_id=str(places.theirs.pk),
            asset_id=str(places.old_chiller.pk),
            requested_window=backwards,
        ),
        400,
    )
    assert set(refused["errors"]) == {"requested_window.end", "site_id", "asset_id"}, refused
    missing = assert_refused(post(api, title=None, category="hvacc"), 400)
    assert set(missing["errors"]) == {"title", "category", "site"}, missing
    assert_nothing_stored(api, relay)


# -- lists --------------------------------------------------------------------------------------


def listed(api, **query) -> tuple[list[str], list[str]]:
    """The ids each page of a listing gives (newest first), and the cursors followed."""
    url = "/v1/orders?" + urlencode(query)
    ids, cursors = [], []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        page = response.json()
        ids += [order["id"] for order in page["results"]]
        url = page["next"]
        cursors += [page["next_cursor"]] if page["next_cursor"] else []
    return ids, cursors


def test_the_list_by_site_and_by_asset_pages_with_cursors(api, places):
    store, rtu = str(places.store.pk), str(places.rtu.pk)
    first = created(api, site_id=store)["id"]
    on_rtu = created(api, site_id=store, asset_id=rtu)["id"]
    created(api, site_id=str(places.other_store.pk))
    created(api, site="Somewhere else")
    last = created(api, site_id=store)["id"]
    created(client_for(places.them), site_id=str(places.theirs.pk))

    ids, cursors = listed(api, site_id=store, limit=2)
    assert ids == [last, on_rtu, first] and cursors
    assert listed(api, asset_id=rtu)[0] == [on_rtu]
    assert listed(api, site_id=str(places.roof.pk))[0] == []  # the order's site, not the asset's
    assert listed(api, site_id=store, asset_id=rtu, status="received")[0] == [on_rtu]
    assert listed(api, site_id=store, status="cancelled")[0] == []
    assert listed(api, site_id=str(places.theirs.pk))[0] == []  # never another's orders
    # A cursor continues only its own listing.
    other = api.get("/v1/orders?" + urlencode({"limit": 2, "cursor": cursors[0]}))
    assert_refused(other, 400)
    assert_refused(api.get("/v1/orders?site_id=store-12"), 400, "site_id")


def test_a_list_page_shows_where_each_order_is(api, places):
    created(api, site_id=str(places.store.pk), asset_id=str(places.rtu.pk))
    [entry] = api.get("/v1/orders?" + urlencode({"asset_id": str(places.rtu.pk)})).json()["results"]
    assert entry["site_ref"] == ref(places.store) and entry["asset_ref"] == ref(places.rtu)
    [same] = api.get("/v1/orders").json()["results"]
    assert same["site_ref"] == ref(places.store)


# -- events -------------------------------------------------------------------------------------


@pytest.fixture
def relay_after_a_write(aws, db):
    """The ``relay`` fixture's relay, taking its place at the end of the stream once the stream
    holds a record: on a shard with none yet, DynamoDB Local's LATEST iterator misses the
    first record written after it (seen when a test that publishes runs first in a session;
    ``test_api.py``'s first test shows it too). The write is another integrator's."""
    from orders.events.relay import MemoryCheckpoints
    from portal.container import event_relay

    created(client_for(make_integrator("Warm-up")), site="Depot 1")
    relay = event_relay(checkpoints=MemoryCheckpoints(), start_at="LATEST")
    relay.poll()
    return relay


def test_the_events_carry_the_site_and_the_asset(api, relay_after_a_write, places, settings):
    relay = relay_after_a_write
    settings.EVENT_FEED_SETTLE_SECONDS = 0
    order = created(api, asset_id=str(places.rtu.pk))
    moved = api.post(
        f"/v1/orders/{order['id']}/transitions",
        data=json.dumps({"to": "cancelled"}),
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert relay.poll().published == 2
    events = api.get("/v1/events").json()["results"]
    assert [e["type"] for e in events] == ["order.created", "order.status_changed"]
    for event in events:
        published = event["data"]["order"]
        assert published["site_ref"] == ref(places.roof)
        assert published["asset_ref"] == ref(places.rtu) and published["maintenance"] is None


# -- archiving a site --------------------------------------------------------------------------


def test_a_site_with_an_open_order_is_archived_once_the_order_is_cancelled(api, places):
    order = created(api, site_id=str(places.other_store.pk), external_reference="WO-77")
    archive = f"/v1/sites/{places.other_store.pk}/archive"

    refused = api.post(archive)
    assert refused.status_code == 409, refused.content
    assert refused.json()["reasons"] == [
        "1 open order is at it (WO-77): complete or cancel it first."
    ]
    assert api.get(f"/v1/sites/{places.other_store.pk}").json()["archived"] is False

    cancelled = api.post(
        f"/v1/orders/{order['id']}/transitions",
        data=json.dumps({"to": "cancelled", "reason": "Store closing"}),
        content_type="application/json",
    )
    assert cancelled.status_code == 200
    archived = api.post(archive)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    # And the order still says where it was.
    assert api.get(f"/v1/orders/{order['id']}").json()["site_ref"]["code"] == "STORE-0013"

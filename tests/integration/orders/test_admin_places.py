"""Where an order is, on the staff's pages: the order's page links its site and asset (to
their own pages, and to the orders there) and says which maintenance plan created it, when
for, in the reader's zone; the list shows each order's site by code and name and narrows to
one site or one asset."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from django.urls import NoReverseMatch, reverse

from orders.admin import order_places
from orders.domain.model import Actor, MaintenanceRef
from orders.domain.rules import OrderInput
from portal.container import order_services
from portal.staff_timezone import COOKIE

from .test_admin_orders import LIST, detail, staff_client
from .test_api_places import asset, site

DUE = datetime(2026, 12, 14, 15, 30, tzinfo=UTC)


@pytest.fixture
def staff(aws, db):
    client = staff_client("view_workorder", username="planner")
    client.cookies[COOKIE] = "Europe/Madrid"
    return client


@pytest.fixture
def store(acme):
    return site(acme, "STORE-0012", "Store 12, 5th Ave")


@pytest.fixture
def rtu(acme, store):
    return asset(acme, store, "RTU-2", "Rooftop unit 2")


def order_at(integrator, *, title="Replace the filters", **places):
    return order_services().intake.create_order(
        data=OrderInput(title=title, category="hvac"),
        integrator=integrator.slug,
        actor=Actor.system("scheduler"),
        **places,
    )


def link_to(name: str, object_id) -> str | None:
    try:
        return reverse(name, args=[str(object_id)])
    except NoReverseMatch:  # a page the staff site does not have (yet)
        return None


def test_the_order_page_links_its_site_asset_and_plan(staff, acme, store, rtu):
    plan = MaintenanceRef("0f6a1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "Quarterly filter change", DUE)
    order = order_at(acme, site_id=str(store.pk), asset_id=str(rtu.pk), maintenance=plan)

    page = staff.get(detail(order.id)).content.decode()

    assert (
        f'href="/admin/facilities/site/{store.pk}/change/">STORE-0012 · Store 12, 5th Ave</a>'
        in page
    )
    asset_page = link_to("admin:facilities_asset_change", rtu.pk)
    if asset_page:
        assert f'href="{asset_page}">RTU-2 · Rooftop unit 2</a>' in page
    else:
        assert "<strong>RTU-2 · Rooftop unit 2</strong>" in page
    plan_page = reverse("admin:maintenance_maintenanceplan_change", args=[plan.plan_id])
    assert (
        f'Created by maintenance plan <a href="{plan_page}">Quarterly filter change</a> '
        "for 2026-12-14 16:30 CET"  # 15:30 UTC, in the reader's zone
    ) in page
    orders_there = f"{LIST}?{urlencode({'site_id': str(store.pk)})}"
    assert f'href="{orders_there}">orders here</a>' in page


def test_a_plan_whose_page_is_missing_is_named_as_text(staff, acme, store, monkeypatch):
    monkeypatch.setattr(order_places, "PLAN_PAGE", "admin:no_such_page")
    plan = MaintenanceRef("plan-7", "Yearly inspection", DUE)
    order = order_at(acme, site_id=str(store.pk), maintenance=plan)
    page = staff.get(detail(order.id)).content.decode()
    assert "Created by maintenance plan <strong>Yearly inspection</strong> for" in page


def test_an_order_without_places_shows_none(staff, acme):
    order = order_services().intake.create_order(
        data=OrderInput(title="Fix the door", category="general", site="12 High St"),
        integrator=acme.slug,
        actor=Actor.integrator(acme.slug),
    )
    page = staff.get(detail(order.id)).content.decode()
    assert 'id="order-places"' not in page and "maintenance plan" not in page


def test_the_list_shows_the_site_and_narrows_to_one_site_or_asset(staff, acme, store, rtu):
    other = site(acme, "STORE-0013", "Store 13")
    on_rtu = order_at(acme, title="Rooftop unit rattles", asset_id=str(rtu.pk))
    at_store = order_at(acme, title="Door sticks", site_id=str(store.pk))
    elsewhere = order_at(acme, title="Lights out", site_id=str(other.pk))

    everything = staff.get(LIST).content.decode()
    assert f'<a href="?site_id={store.pk}" title="Orders at this site">STORE-0012</a>' in everything
    assert f'<a href="?asset_id={rtu.pk}" title="Orders on this asset">RTU-2</a>' in everything

    by_site = staff.get(LIST, {"site_id": str(store.pk)}).content.decode()
    assert on_rtu.id in by_site and at_store.id in by_site and elsewhere.id not in by_site
    assert "Site: STORE-0012 · Store 12, 5th Ave" in by_site  # the chip, in words

    by_asset = staff.get(LIST, {"asset_id": str(rtu.pk), "status": "received"}).content.decode()
    assert on_rtu.id in by_asset and at_store.id not in by_asset
    assert "Asset: RTU-2 · Rooftop unit 2" in by_asset
    # The filter rides along when another is chosen (a hidden field of the filter form).
    assert f'name="asset_id" value="{rtu.pk}"' in by_asset


def test_a_bad_place_filter_says_so(staff):
    page = staff.get(LIST, {"site_id": "store-12"}).content.decode()
    assert "Enter a valid UUID." in page

"""A dispatcher reads an asset's page in a real browser: what the equipment is and where (its
site a link to the site's page), the orders at it (an open one and a cancelled one, created
over the API with the asset's id, each a link with its status and priority in words and its
time in the dispatcher's zone) and its coming maintenance (none: "No maintenance planned"),
then prints its label: the name, the code, the site and a QR code of the page's address,
printed alone. No Content-Security-Policy violation on either page; screenshots of both
(``asset-page.png``, ``asset-label.png``; docs/screenshots/ shows them). A viewer reads the
same page in words and opens the label too."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.support import wait_for

from .conftest import ARTIFACTS
from .test_admin_browser import policy_violations
from .test_admin_teams_browser import failed_responses

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
ASSETS = "/admin/facilities/asset/"
EDITOR_PERMISSIONS = ("view_asset", "change_asset", "view_site")
#: The dispatcher's own clock: the page shows the orders' times in it.
ZONE = "America/New_York"


def committed(write: Callable[[], Any]) -> Any:
    """``write``, done again while SQLite says the database is locked: the portal's processes
    take its write lock for each of their transactions, and this process's begin deferred, so
    one that reads before it writes cannot wait its turn (PostgreSQL never says so)."""
    from django.db import OperationalError

    def attempt() -> Any:
        try:
            return write() or True
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            return None

    return wait_for(attempt, timeout=30, interval=0.1, what="a write to the test database")


def granted(staff_logins, django_db_blocker, role: str, codenames: tuple[str, ...]):
    """The session's ``role`` login, allowed ``codenames`` of facilities while a module runs."""
    from django.contrib.auth.models import Permission, User

    login = staff_logins[role]
    with django_db_blocker.unblock():
        user = User.objects.get(username=login.username)
        permissions = list(
            Permission.objects.filter(content_type__app_label="facilities", codename__in=codenames)
        )
        committed(lambda: user.user_permissions.add(*permissions))
    yield login
    with django_db_blocker.unblock():
        committed(lambda: user.user_permissions.remove(*permissions))


@pytest.fixture(scope="module")
def asset_editor(staff_logins, django_db_blocker):
    yield from granted(staff_logins, django_db_blocker, "dispatcher", EDITOR_PERMISSIONS)


@pytest.fixture(scope="module")
def asset_viewer(staff_logins, django_db_blocker):
    yield from granted(staff_logins, django_db_blocker, "viewer", ("view_asset", "view_site"))


@pytest.fixture(scope="module")
def rooftop_unit(portal, django_db_blocker) -> Iterator[object]:
    """A rooftop unit at a store of the portal's integrator (orders are created with its key),
    committed before the test so the web process sees it; the orders at it are cancelled and
    the asset and its sites deleted afterwards."""
    from facilities.asset_services import create_asset
    from facilities.models import Asset, Site
    from facilities.services import create_site
    from integrators.models import Integrator
    from maintenance.models import MaintenancePlan
    from maintenance.services import create_plan
    from portal.container import plan_orders

    suffix = uuid.uuid4().hex[:6].upper()
    region = {"code": f"NE-{suffix}", "name": "Northeast", "kind": "region", "time_zone": ZONE}
    store = {
        "code": f"STORE-{suffix}",
        "name": "Store 12, 5th Ave",
        "kind": "site",
        "parent_code": f"NE-{suffix}",
        "address": {"line1": "512 5th Ave", "city": "New York", "country": "US"},
        "time_zone": ZONE,
    }
    rtu = {
        "code": f"RTU-{suffix}-01",
        "name": "Rooftop unit 1",
        "site_code": f"STORE-{suffix}",
        "category": "Rooftop unit",
        "make": "Carrier",
        "model": "48FC",
        "serial_number": f"4821G{suffix}",
        "installed_on": "2021-05-14",
        "notes": "On the roof above the loading dock; ladder key at the service desk.",
    }
    with django_db_blocker.unblock():
        integrator = Integrator.objects.get(slug=portal.integrator)
        committed(lambda: create_site(integrator, region))
        committed(lambda: create_site(integrator, store))
        asset = committed(lambda: create_asset(integrator, rtu))
        asset = Asset.objects.select_related("site").get(pk=asset.pk)
        # Its coming maintenance: the filters on the first Monday of each month.
        committed(
            lambda: create_plan(
                integrator,
                {
                    "name": "Filter change",
                    "asset_id": str(asset.pk),
                    "recurrence": "FREQ=MONTHLY;BYDAY=1MO",
                    "starts_on": "2026-01-01",
                    "at": "07:00",
                    "lead_days": 3,
                    "order": {"title": "Change the filters", "category": "hvac"},
                },
                orders=plan_orders(),
            )
        )
    yield asset
    with django_db_blocker.unblock():
        committed(lambda: MaintenancePlan.objects.filter(asset_id=asset.pk).delete())
        committed(lambda: Asset.objects.filter(pk=asset.pk).delete())
        for code in (store["code"], region["code"]):  # the store first: it is under the region
            committed(
                lambda code=code: Site.objects.filter(integrator=integrator, code=code).delete()
            )


def cancel(portal, order_id: str) -> None:
    moved = requests.post(
        f"{portal.base_url}/v1/orders/{order_id}/transitions",
        json={"to": "cancelled", "reason": "Done in the browser test"},
        headers=portal.auth,
        timeout=10,
    )
    assert moved.status_code in (200, 409), moved.text  # 409: it had ended already


@pytest.fixture
def orders_at_it(portal, rooftop_unit) -> Iterator[dict[str, dict]]:
    """An open order at the asset and a cancelled one, through the API with the asset's id."""
    body = {"category": "hvac", "asset_id": str(rooftop_unit.pk)}
    belt = portal.post_order({**body, "title": "Replace the fan belt", "priority": "high"})
    coils = portal.post_order({**body, "title": "Clean the coils", "priority": "low"})
    cancel(portal, coils["id"])
    yield {"open": belt, "past": coils}
    cancel(portal, belt["id"])


def test_a_dispatcher_reads_an_assets_page_and_prints_its_label(
    page_for, asset_editor, rooftop_unit, orders_at_it
):
    asset = rooftop_unit
    page = page_for(asset_editor, timezone_id=ZONE, viewport={"width": 1280, "height": 900})
    failed = failed_responses(page)
    violations = policy_violations(page)

    page.goto(f"{ASSETS}?q={asset.serial_number}")  # found by its serial number
    row = page.locator("#result_list tbody tr", has_text=asset.code)
    expect(row).to_have_count(1)
    expect(row.locator("td.field-status_shown")).to_have_text("In service")
    expect(row.locator("td.field-site_shown")).to_have_text(
        f"Store 12, 5th Ave ({asset.site.code})"
    )
    row.locator("a", has_text=asset.code).first.click()

    expect(page.locator("#content h2").first).to_have_text(f"Rooftop unit 1 ({asset.code})")
    site_link = page.locator(".field-site_where a")
    expect(site_link).to_have_attribute("href", f"/admin/facilities/site/{asset.site_id}/change/")
    expect(page.locator(".field-site_where .readonly")).to_contain_text("New York, US")
    expect(page.locator("#id_serial_number")).to_have_value(asset.serial_number)

    belt, coils = orders_at_it["open"], orders_at_it["past"]
    open_rows = page.locator("table.asset-orders-open tbody tr")

    def listed() -> bool:
        page.reload()
        return open_rows.count() == 1 and page.locator("table.asset-orders-past tr").count() == 2

    wait_for(listed, timeout=20, interval=0.5, what="the orders on the asset's page")
    first = open_rows.nth(0)
    expect(first.locator("a")).to_have_text("Replace the fan belt")
    expect(first.locator("a")).to_have_attribute("href", re.compile(rf"/{belt['id']}/?$"))
    expect(first.locator("td").nth(1)).not_to_have_text(re.compile(r"_"))  # words, no slug
    expect(first.locator("td").nth(2)).to_have_text("High")
    expect(first.locator("td").nth(3)).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T$")
    )
    past = page.locator("table.asset-orders-past tbody tr").nth(0)
    expect(past.locator("a")).to_have_text("Clean the coils")
    expect(past.locator("a")).to_have_attribute("href", re.compile(rf"/{coils['id']}/?$"))
    expect(past.locator("td").nth(1)).to_have_text("Cancelled")
    maintenance = page.locator("#asset-maintenance")
    expect(maintenance).to_contain_text("Filter change")
    expect(maintenance).to_contain_text("Planned")
    expect(maintenance).not_to_contain_text("FREQ=")
    page.screenshot(path=str(ARTIFACTS / "asset-page.png"), full_page=True)

    page.locator("a.asset-label-link").click()
    expect(page.locator("h1")).to_have_text("Label for Rooftop unit 1")
    label = page.locator(".asset-label")
    expect(label.locator("svg.asset-qr")).to_be_visible()
    expect(label.locator(".asset-label-code")).to_have_text(asset.code)
    expect(label.locator(".asset-label-site")).to_have_text(
        f"Store 12, 5th Ave ({asset.site.code})"
    )
    page_url = f"{page.url.split('/admin/')[0]}/admin/facilities/asset/{asset.pk}/change/"
    expect(label.locator(".asset-label-url")).to_have_text(page_url)
    expect(page.locator("[data-print-label]")).to_be_visible()  # the script file ran
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "asset-label.png"), full_page=True)

    page.emulate_media(media="print")  # printed: the label alone
    expect(label).to_be_visible()
    expect(page.locator("#header")).to_be_hidden()
    expect(page.locator(".asset-label-help")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "asset-label-printed.png"))
    page.emulate_media(media="screen")
    assert failed == [] and violations == []


def test_a_viewer_reads_the_asset_in_words_and_opens_its_label(
    page_for, asset_viewer, rooftop_unit
):
    page = page_for(asset_viewer)
    violations = policy_violations(page)
    page.goto(f"{ASSETS}{rooftop_unit.pk}/change/")
    expect(page.locator(".field-status .readonly")).to_have_text("In service")
    expect(page.locator(".field-site_page a")).to_contain_text("Store 12, 5th Ave")
    expect(page.locator("input[name=name], select[name=status]")).to_have_count(0)
    page.locator("a.asset-label-link").click()
    expect(page.locator(".asset-label svg.asset-qr")).to_be_visible()
    assert violations == []

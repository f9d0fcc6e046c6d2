"""A dispatcher finds an integrator's site in a real browser: the sites list speaks in words
(kinds, what a site is under, where it is, whether it is active), search finds a store by its
code, and the site's page shows its address, hours and record. The dispatcher adds Saturday's
hours in an empty row of boxes (no JSON, no JavaScript needed): a row without its closing time
is refused on that row, the whole row is saved. Screenshots of both pages (and the refusal)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .test_admin_browser import policy_violations
from .test_admin_teams_browser import failed_responses

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
SITES = "/admin/facilities/site/"
SITE_PERMISSIONS = ("view_site", "change_site")


@pytest.fixture(scope="module")
def site_editor(staff_logins, django_db_blocker):
    """The session's dispatcher, allowed to see and edit sites while this module runs."""
    from django.contrib.auth.models import Permission, User

    login = staff_logins["dispatcher"]
    with django_db_blocker.unblock():
        user = User.objects.get(username=login.username)
        granted = Permission.objects.filter(
            content_type__app_label="facilities", codename__in=SITE_PERMISSIONS
        )
        user.user_permissions.add(*granted)
    yield login
    with django_db_blocker.unblock():
        user.user_permissions.remove(*granted)


@pytest.fixture(scope="module")
def site_viewer(staff_logins, django_db_blocker):
    """The session's viewer, allowed to see sites (not change them) while this module runs."""
    from django.contrib.auth.models import Permission, User

    login = staff_logins["viewer"]
    with django_db_blocker.unblock():
        user = User.objects.get(username=login.username)
        granted = Permission.objects.get(content_type__app_label="facilities", codename="view_site")
        user.user_permissions.add(granted)
    yield login
    with django_db_blocker.unblock():
        user.user_permissions.remove(granted)


@pytest.fixture(scope="module")
def stores(portal, django_db_blocker) -> Iterator[dict[str, object]]:
    """An integrator of its own with a region and a store under it, committed before the
    test (the web process must see them), through the same services the API uses."""
    from facilities.models import Site
    from facilities.services import create_site
    from integrators.models import Integrator
    from integrators.services import create_integrator

    suffix = uuid.uuid4().hex[:6]
    with django_db_blocker.unblock():
        integrator, _ = create_integrator(f"Browser Stores {suffix}", slug=f"stores-{suffix}")
        region = create_site(
            integrator, {"code": "NE", "name": "Northeast", "kind": "region", "time_zone": "UTC"}
        )
        store = create_site(
            integrator,
            {
                "code": f"STORE-{suffix}",
                "name": "Store 12, 5th Ave",
                "kind": "site",
                "parent_code": "NE",
                "address": {
                    "line1": "512 5th Ave",
                    "city": "New York",
                    "region": "NY",
                    "postal_code": "10036",
                    "country": "US",
                },
                "time_zone": "America/New_York",
                "access_hours": [{"days": ["mon", "fri"], "opens": "07:00", "closes": "22:00"}],
                "contacts": [{"name": "Dana Reyes", "role": "Store manager"}],
            },
        )
    yield {"region": region, "store": store}
    with django_db_blocker.unblock():
        Site.objects.filter(integrator=integrator, parent__isnull=False).delete()
        Site.objects.filter(integrator=integrator).delete()
        Integrator.objects.filter(pk=integrator.pk).delete()


def test_a_dispatcher_finds_a_store_by_its_code_and_adds_saturdays_hours(
    page_for, site_editor, stores
):
    store = stores["store"]
    page = page_for(site_editor)
    failed = failed_responses(page)
    violations = policy_violations(page)

    page.goto(f"{SITES}?q={store.code}")
    row = page.locator("#result_list tbody tr", has_text=store.code)
    expect(row).to_have_count(1)
    expect(row.locator("td.field-kind_shown")).to_have_text("Site")
    expect(row.locator("td.field-parent_shown")).to_have_text("Northeast")
    expect(row.locator("td.field-place")).to_have_text("New York, US")
    expect(row.locator("td.field-status")).to_have_text("Active")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    row.locator("a", has_text=store.code).first.click()
    expect(page.locator("#content h2").first).to_have_text(f"Store 12, 5th Ave ({store.code})")
    expect(page.locator("#id_time_zone")).to_have_value("America/New_York")
    expect(page.locator(".field-version")).to_contain_text("1")
    hours = page.locator(".field-access_hours tr.site-row")
    expect(hours).to_have_count(3)  # the stored window and two empty rows
    expect(hours.nth(0).get_by_label("Mon")).to_be_checked()
    expect(hours.nth(0).get_by_label("Tue")).not_to_be_checked()
    expect(hours.nth(0).get_by_label("Opens")).to_have_value("07:00")
    expect(hours.nth(0).get_by_label("Closes")).to_have_value("22:00")
    contact = page.locator(".field-contacts tr.site-row").nth(0)
    expect(contact.get_by_label("Name")).to_have_value("Dana Reyes")

    # Saturday in an empty row: first without its closing time, which the row refuses.
    saturday = hours.nth(1)
    saturday.get_by_label("Sat").check()
    saturday.get_by_label("Opens").fill("09:00")
    page.locator("input[name=_save]").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(saturday).to_have_class(re.compile(r"\berrors\b"))
    expect(saturday.locator(".errorlist")).to_have_text("Closes must be a time like 18:00.")
    expect(hours.nth(0).locator(".errorlist")).to_have_count(0)
    expect(saturday.get_by_label("Sat")).to_be_checked()  # what was typed stays
    page.screenshot(path=str(ARTIFACTS / "admin-site-row-refused.png"), full_page=True)
    saturday.get_by_label("Closes").fill("18:00")
    page.locator("input[name=_save]").click()

    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    row = page.locator("#result_list tbody tr", has_text=store.code)
    expect(row).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "admin-sites-list.png"), full_page=True)

    row.locator("a", has_text=store.code).first.click()
    expect(page.locator(".field-version")).to_contain_text("2")
    hours = page.locator(".field-access_hours tr.site-row")
    expect(hours).to_have_count(4)  # two stored windows, two empty rows again
    expect(hours.nth(1).get_by_label("Sat")).to_be_checked()
    expect(hours.nth(1).get_by_label("Sun")).not_to_be_checked()
    expect(hours.nth(1).get_by_label("Opens")).to_have_value("09:00")
    expect(hours.nth(1).get_by_label("Closes")).to_have_value("18:00")
    page.screenshot(path=str(ARTIFACTS / "admin-site-page.png"), full_page=True)
    assert failed == [] and violations == []

    from facilities.models import Site

    assert Site.objects.get(pk=store.pk).access_hours == [
        {"days": ["mon", "fri"], "opens": "07:00", "closes": "22:00"},
        {"days": ["sat"], "opens": "09:00", "closes": "18:00"},
    ]


def test_a_viewer_reads_the_hours_and_contacts_in_words(page_for, site_viewer, stores):
    store = stores["store"]
    page = page_for(site_viewer)
    page.goto(f"{SITES}{store.pk}/change/")
    expect(page.locator(".field-hours_shown .readonly")).to_contain_text("Mon, Fri 07:00–22:00")
    expect(page.locator(".field-contacts_shown .readonly")).to_have_text(
        "Dana Reyes (Store manager)"
    )
    expect(page.locator("input[type=time], input[type=checkbox]")).to_have_count(0)

"""A dispatcher runs a maintenance plan in a real browser: the plans list reads where, how
often and what state in words; the plan's page lists its coming occurrences in the reader's
own time zone and what became of the past ones (the order the scheduler made, a link); the
dispatcher skips next week's visit with a reason, sees it marked skipped, then pauses the
plan. No failed requests, no Content-Security-Policy violations; a screenshot of the page."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .test_admin_browser import policy_violations
from .test_admin_teams_browser import failed_responses

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
PLANS = "/admin/maintenance/maintenanceplan/"
PERMISSIONS = ("view_maintenanceplan", "change_maintenanceplan", "add_maintenanceplan")


@pytest.fixture(scope="module")
def plan_editor(staff_logins, django_db_blocker):
    from django.contrib.auth.models import Permission, User

    login = staff_logins["dispatcher"]
    with django_db_blocker.unblock():
        user = User.objects.get(username=login.username)
        granted = Permission.objects.filter(
            content_type__app_label="maintenance", codename__in=PERMISSIONS
        )
        user.user_permissions.add(*granted)
    yield login
    with django_db_blocker.unblock():
        user.user_permissions.remove(*granted)


@pytest.fixture(scope="module")
def weekly_plan(portal, django_db_blocker) -> Iterator[dict]:
    """A weekly inspection of a rooftop unit in a Madrid store, due in this very minute, and
    the scheduler role run once over it (the order it makes is the plan's first past one)."""
    from facilities.models import Asset
    from facilities.services import create_site
    from integrators.models import Integrator
    from maintenance import services
    from maintenance.models import MaintenancePlan
    from portal.container import plan_orders

    madrid = ZoneInfo("Europe/Madrid")
    now = datetime.now(madrid)
    with django_db_blocker.unblock():
        integrator = Integrator.objects.get(slug=portal.integrator)
        tag = uuid.uuid4().hex[:4].upper()
        store = create_site(
            integrator,
            {
                "code": f"MAD-{tag}",
                "name": "Madrid, Gran Vía 32",
                "kind": "site",
                "time_zone": "Europe/Madrid",
            },
        )
        stamp = datetime.now(madrid)
        unit = Asset.objects.create(
            integrator=integrator,
            site=store,
            code=f"RTU-{tag}",
            name="Rooftop unit 2",
            category="Rooftop unit",
            make="Carrier",
            model="48TC",
            created_at=stamp,
            updated_at=stamp,
            status_changed_at=stamp,
        )
        plan = services.create_plan(
            integrator,
            {
                "name": "Weekly rooftop inspection",
                "asset_id": str(unit.pk),
                "recurrence": f"FREQ=WEEKLY;BYDAY={now.strftime('%a')[:2].upper()}",
                "starts_on": now.date().isoformat(),
                "at": now.strftime("%H:%M"),
                "order": {"title": "Inspect the rooftop unit", "category": "hvac"},
            },
            orders=plan_orders(),
        )
    subprocess.run(
        [sys.executable, "-m", "portal.role", "scheduler", "--once"],
        env={**portal.env, "METRICS_PORT": "0"},
        check=True,
        timeout=60,
    )
    yield {"plan": plan, "store": store, "unit": unit}
    with django_db_blocker.unblock():
        MaintenancePlan.objects.filter(pk=plan.pk).update(archived_at=stamp)


def test_a_dispatcher_skips_next_weeks_visit_and_pauses_the_plan(
    page_for, plan_editor, weekly_plan
):
    plan = weekly_plan["plan"]
    page = page_for(plan_editor, timezone_id="America/New_York")
    failed = failed_responses(page)
    violations = policy_violations(page)

    page.goto(f"{PLANS}?q=rooftop")
    row = page.locator("#result_list tbody tr", has_text="Weekly rooftop inspection")
    expect(row).to_have_count(1)
    expect(row.locator("td.field-schedule")).to_contain_text("Every week on")
    expect(row.locator("td.field-place")).to_contain_text("Rooftop unit 2")
    expect(row.locator("td.field-state")).to_have_text("Active")
    row.locator("a", has_text="Weekly rooftop inspection").click()

    past = page.locator("section[aria-labelledby=plan-past-title] tbody tr")
    expect(past).to_have_count(1)
    expect(past.first.get_by_role("link", name="Order created")).to_be_visible()
    expect(past.first).to_contain_text("The scheduler")
    coming = page.locator("section[aria-labelledby=plan-coming-title] tbody tr")
    expect(coming).to_have_count(10)
    # Each week at the plan's Madrid time, shown in the reader's (New York's).
    first_due = plan.next_due_at.astimezone(ZoneInfo("America/New_York"))
    expect(coming.first).to_contain_text(first_due.strftime("%H:%M"))
    page.screenshot(path=str(ARTIFACTS / "admin-plan-page-before.png"), full_page=True)

    next_week = coming.nth(1)
    next_week.get_by_label("Reason").fill("Store closed for stocktaking")
    next_week.get_by_role("button", name="Skip").click()
    expect(page.locator("ul.messagelist")).to_contain_text("Skipped")
    expect(coming.nth(1)).to_contain_text("Skipped: Store closed for stocktaking")
    expect(coming.nth(1).get_by_role("button", name="Take back the skip")).to_be_visible()
    expect(past).to_have_count(1)  # a skip of a coming occurrence is not in the past
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-plan-page.png"), full_page=True)

    page.get_by_role("button", name="Pause the plan").click()
    expect(page.locator("#plan-state-title")).to_have_text("This plan is paused")
    expect(coming.last).to_contain_text("Paused")
    assert failed == [] and violations == []

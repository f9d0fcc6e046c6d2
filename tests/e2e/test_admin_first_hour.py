"""A staff member's first hour, in a real browser: the dashboard on the index, times in their
own zone, select-all and a confirmation before a bulk cancel, the full id to copy. The pages
it passes through are saved as screenshots in .state/test-artifacts/screens/first-hour-*.png."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.integration.factories import EXAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
LIST = "/admin/orders/workorder/"
SCREENS = ARTIFACTS / "screens"


def shoot(page, name: str) -> None:
    """The pages of a first hour, for a look; docs/screenshots/ comes from the tests of each
    page (test_admin_in_words.py, test_admin_operations_browser.py)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"first-hour-{name}.png"), full_page=True)


def test_a_dispatcher_finds_their_way_and_is_asked_before_cancelling(
    page_for, staff_logins, portal
):
    orders = [
        portal.post_order({**EXAMPLE, "external_reference": f"FH-{n}", "site": f"Store {n}"})
        for n in (1, 2)
    ]
    for order in orders:
        portal.wait_for_status(order["id"], "scheduled")
    page = page_for(
        staff_logins["dispatcher"],
        timezone_id="Europe/Madrid",
        viewport={"width": 1400, "height": 900},
    )

    page.goto("/admin/")  # the browser tells the portal its zone on the first page
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("td.wo-count[data-status='scheduled']")).not_to_have_text("0")
    expect(page.locator("text=View site")).to_have_count(0)
    shoot(page, "dashboard")

    page.goto(f"{LIST}?integrator={portal.integrator}&status=scheduled")
    expect(page.locator("#result_list")).to_contain_text("Store 1")
    page.check("#select-all")
    for order in orders:
        expect(
            page.locator(f"tr[data-order='{order['id']}'] input[name='selected']")
        ).to_be_checked()
    shoot(page, "list")

    page.goto(f"{LIST}{orders[0]['id']}/")
    created = portal.get_order(orders[0]["id"])["created_at"]
    madrid = _local(created, "Europe/Madrid")
    expect(page.locator("#content-main")).to_contain_text(madrid)
    page.click("#details summary")  # the details are folded away below the work
    expect(page.locator(f"button[data-copy='{orders[0]['id']}']")).to_be_visible()
    shoot(page, "detail")

    page.goto(f"{LIST}?integrator={portal.integrator}&status=scheduled")
    for order in orders:
        page.check(f"tr[data-order='{order['id']}'] input[name='selected']")
    page.select_option("select[name='to']", "cancelled")
    page.fill("input[name='reason']", "Store closed")
    page.click("button[name='apply']")

    expect(page.locator(".messagelist")).to_contain_text("Moved 2 order(s) to cancelled.")
    assert page.confirmations == ["Move the selected orders to Cancelled? This cannot be undone."]

    page.goto("/admin/operations/pipeline/")
    shoot(page, "pipeline")


def _local(iso: str, zone: str) -> str:
    from datetime import datetime

    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return at.strftime("%Y-%m-%d %H:%M:%S ") + at.tzname()

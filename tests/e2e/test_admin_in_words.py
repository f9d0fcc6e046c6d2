"""The orders' list and page in a real browser, read as a dispatcher reads them: labels, not
slugs; sorts that stay across pages; filters as drop-downs and removable chips; a search that
opens the order; the work above the details; a hold that says why and where it resumes; a
check-in far from its booked window that asks first. The tests save the screenshots that
docs/screenshots/ shows (list, order open, on hold, with a visit)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.integration.factories import EXAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
LIST = "/admin/orders/workorder/"
SCREENS = ARTIFACTS / "screens"
#: Slugs no cell, button or timeline line should show a person.
SLUGS = re.compile(r"\b(in_progress|on_hold|order\.\w+|STATUSCHANGED|VISITCHECKEDIN)\b")
MADRID = {"timezone_id": "Europe/Madrid", "viewport": {"width": 1400, "height": 900}}


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def scheduled_orders(portal, tag: str, priorities: list[str]) -> list[dict]:
    orders = [
        portal.post_order(
            {
                **EXAMPLE,
                "title": f"{tag} filter {n}",
                "priority": priority,
                "external_reference": f"{tag}-{n}",
                "site": f"Depot {n}",
            }
        )
        for n, priority in enumerate(priorities)
    ]
    return [portal.wait_for_status(order["id"], "scheduled") for order in orders]


def due_times(page) -> list[datetime]:
    """The SLA due cells of the list, as the page shows them (the zone's letters dropped)."""
    cells = page.locator("#result_list tbody td.wo-sla-due").all_inner_texts()
    return [datetime.strptime(cell.rsplit(" ", 1)[0], "%Y-%m-%d %H:%M") for cell in cells]


def test_the_list_speaks_in_words_and_keeps_its_sort_across_pages(page_for, staff_logins, portal):
    tag = f"SRT{uuid.uuid4().hex[:4]}"
    scheduled_orders(portal, tag, ["urgent", "low", "high", "normal"] * 3)
    page = page_for(staff_logins["dispatcher"], **MADRID)
    page.goto("/admin/")  # the browser tells the portal its zone on the first page
    page.goto(f"{LIST}?integrator={portal.integrator}&per_page=10")

    # Words, not slugs; the external reference has a column; times carry the reader's zone.
    table = page.locator("#result_list")
    expect(table.locator("thead")).to_contain_text("Reference")
    expect(table).to_contain_text(f"{tag}-11")  # newest first
    expect(table.locator("td.wo-status").first).to_have_text(
        re.compile("^(Received|Accepted|Scheduled|In progress|On hold|Completed|Cancelled)$")
    )
    assert not SLUGS.search(table.inner_text())
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CET", table.inner_text())
    expect(page.locator("#id_q")).to_have_attribute("placeholder", "Order id, reference, or words")

    # Sort by SLA due: soonest first, and page two goes on from where page one stopped.
    page.click("th[data-sort='sla'] a")
    expect(page.locator("th[data-sort='sla']")).to_contain_text("▲")
    first_page = due_times(page)
    assert first_page == sorted(first_page) and len(first_page) == 10
    page.click("#next-page")
    expect(page).to_have_url(re.compile(r"sort=sla"))
    expect(page.locator("th[data-sort='sla']")).to_contain_text("▲")
    second_page = due_times(page)
    assert second_page and second_page == sorted(second_page)
    assert first_page[-1] <= second_page[0]
    page.click("#previous-page")
    assert due_times(page) == first_page
    # A second click on the column reverses it.
    page.click("th[data-sort='sla'] a")
    expect(page.locator("th[data-sort='sla']")).to_contain_text("▼")
    latest = due_times(page)
    assert latest == sorted(latest, reverse=True)
    shoot(page, "list")


def test_filters_are_drop_downs_and_the_active_ones_chips_that_remove_themselves(
    page_for, staff_logins, portal
):
    tag = f"CHP{uuid.uuid4().hex[:4]}"
    urgent, low = scheduled_orders(portal, tag, ["urgent", "low"])
    page = page_for(staff_logins["dispatcher"])
    page.goto(f"{LIST}?integrator={portal.integrator}&sort=priority")

    page.click("#filter-status summary")
    page.check("#filter-status input[value='scheduled']")
    page.click("#filter-priority summary")  # opening one drop-down closes the other
    expect(page.locator("#filter-status .wo-dropdown-body")).not_to_be_visible()
    page.check("#filter-priority input[value='urgent']")
    page.click("#filter-priority button:text-is('Filter')")

    chips = page.locator("#active-filters")
    expect(chips).to_contain_text("Status: Scheduled")
    expect(chips).to_contain_text("Priority: Urgent")
    expect(page.locator("#filter-priority summary")).to_contain_text("Urgent")
    expect(page.locator(f"tr[data-order='{urgent['id']}']")).to_be_visible()
    expect(page.locator(f"tr[data-order='{low['id']}']")).to_have_count(0)
    expect(page).to_have_url(re.compile("sort=priority"))  # filtering kept the sort

    page.click("#active-filters a[aria-label='Remove the filter Priority: Urgent']")
    expect(chips).not_to_contain_text("Priority: Urgent")
    expect(chips).to_contain_text("Status: Scheduled")
    expect(page.locator(f"tr[data-order='{low['id']}']")).to_be_visible()
    expect(page).to_have_url(re.compile("sort=priority"))
    page.click("#clear-filters")
    expect(page.locator("#active-filters")).to_have_count(0)


def test_searching_a_reference_opens_that_order(page_for, staff_logins, portal):
    tag = f"SCH{uuid.uuid4().hex[:4]}"
    (order,) = scheduled_orders(portal, tag, ["normal"])
    page = page_for(staff_logins["dispatcher"])
    page.goto(LIST)
    page.fill("#id_q", f"{tag}-0")
    page.press("#id_q", "Enter")
    expect(page).to_have_url(re.compile(f"{LIST}{order['id']}/$"))
    expect(page.locator("#order-reference")).to_have_text(f"{tag}-0")


def test_the_order_page_puts_the_work_first_and_says_what_a_hold_means(
    page_for, staff_logins, portal
):
    tag = f"PGE{uuid.uuid4().hex[:4]}"
    (order,) = scheduled_orders(portal, tag, ["high"])
    page = page_for(staff_logins["dispatcher"], **MADRID)
    page.goto("/admin/")
    page.goto(f"{LIST}{order['id']}/")

    # The header in words; verbs on the buttons; the work panels above the details, which
    # are folded away with the webhook deliveries.
    expect(page.locator("#order-status")).to_have_text("Scheduled")
    expect(page.locator("#order-header")).to_contain_text("High priority")
    expect(page.locator("#moves")).to_contain_text("Start work")
    expect(page.locator("#moves")).to_contain_text("Cancel order")
    expect(page.locator("#moves button[data-move='in_progress']")).to_have_text("Start work")
    expect(page.locator("#details dl")).not_to_be_visible()
    expect(page.locator("#deliveries table")).not_to_be_visible()
    work_top = page.locator("#work").bounding_box()["y"]
    assert work_top < page.locator("#details").bounding_box()["y"]
    assert work_top < 900  # above the fold of a laptop screen
    timeline = page.locator("#history").inner_text()
    assert "Accepted → Scheduled" in timeline and "status changed" in timeline.lower()
    assert not SLUGS.search(page.locator("#content-main").inner_text())
    page.click("#details summary")
    expect(page.locator("#details dl")).to_contain_text(order["id"])
    shoot(page, "detail")

    # On hold: the header says why and where Resume takes it; the SLA reads the same in the
    # header, the SLA panel and the list (paused, no due time that moves by the second).
    page.select_option("#hold-form select[name='preset']", "Waiting for the customer")
    page.fill("#hold-form input[name='detail']", "tenant away until Friday")
    page.click("#hold-form button")
    expect(page.locator("#order-status")).to_have_text("On hold")
    expect(page.locator("#hold-reason")).to_have_text(
        "Waiting for the customer: tenant away until Friday"
    )
    expect(page.locator("#resume-target")).to_have_text("Scheduled")
    expect(page.locator("#header-sla")).to_contain_text("SLA paused")
    expect(page.locator("#sla-due")).to_contain_text("paused")
    expect(page.locator("#resume-form button")).to_have_text("Resume: back to scheduled")
    shoot(page, "detail-on-hold")
    page.goto(f"{LIST}?integrator={portal.integrator}&status=on_hold")
    expect(page.locator(f"tr[data-order='{order['id']}'] td.wo-sla-due")).to_have_text("Paused")
    expect(page.locator(f"tr[data-order='{order['id']}'] td.wo-status")).to_have_text("On hold")

    page.goto(f"{LIST}{order['id']}/")
    page.click("#resume-form button")
    expect(page.locator("#order-status")).to_have_text("Scheduled")
    expect(page.locator("#header-sla")).to_contain_text("SLA due")


@pytest.fixture(scope="module")
def member(portal, django_db_blocker):
    """A technician of the crew the portal's hvac orders go to (the web process reads it)."""
    from orders.models import Team, Technician

    with django_db_blocker.unblock():
        technician, _ = Technician.objects.update_or_create(
            code="e2e-words", defaults={"team": Team.objects.get(code="hvac-crew"), "name": "Lu"}
        )
    yield technician
    with django_db_blocker.unblock():
        technician.delete()


def book_visit(page, order_id: str, technician: str, start: str, end: str) -> None:
    page.goto(f"{LIST}{order_id}/")
    page.select_option("#technician-form select", technician)
    page.click("#technician-form button")
    page.fill("#visit-form input[name='start']", start)
    page.fill("#visit-form input[name='end']", end)
    page.click("#visit-form button")
    expect(page.locator(".messagelist")).to_contain_text("Visit booked")


def test_checking_in_far_from_the_booked_window_asks_first(
    page_for, staff_logins, portal, member
):
    tag = f"VIS{uuid.uuid4().hex[:4]}"
    far, near = scheduled_orders(portal, tag, ["normal", "normal"])
    page = page_for(staff_logins["dispatcher"], **MADRID)
    page.goto("/admin/")

    book_visit(page, far["id"], member.code, "2031-03-10T09:00", "2031-03-10T11:00")
    expect(page.locator("#visit-window")).to_contain_text("2031-03-10 09:00:00 CET")
    expect(page.locator("#history li").first).to_contain_text("Visit booked")
    shoot(page, "detail-visit")
    page.click("#check-in-form button")
    assert page.confirmations == [
        "The visit is booked for 2031-03-10 09:00:00 CET – 2031-03-10 11:00:00 CET, far from "
        "now. Check in anyway?"
    ]
    expect(page.locator("#order-status")).to_have_text("In progress")  # confirmed: done

    # A visit starting within the hour: checking in is what is expected, no question.
    soon = datetime.now(ZoneInfo("Europe/Madrid")) + timedelta(minutes=30)
    book_visit(
        page,
        near["id"],
        member.code,
        soon.strftime("%Y-%m-%dT%H:%M"),
        (soon + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    )
    page.click("#check-in-form button")
    expect(page.locator("#order-status")).to_have_text("In progress")
    assert len(page.confirmations) == 1

"""Staff in a real browser (headless Chromium): create, follow, move, bulk-cancel, redrive;
and a view-only user who sees no action and is refused when posting anyway."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import team_name
from tests.integration.factories import EXAMPLE
from tests.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
LIST = "/admin/orders/workorder/"


def status_of(page) -> str:
    return page.inner_text("#order-status").strip()


def policy_violations(page) -> list[str]:
    """The Content-Security-Policy violations the page reports from now on."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def reload_until_status(page, status: str, timeout: float = 30) -> None:
    def reached() -> bool:
        page.reload()
        return status_of(page) == status

    wait_for(reached, timeout=timeout, interval=0.3, what=f"the page to show {status}")


def test_a_dispatcher_runs_an_order_from_creation_to_completion(page_for, staff_logins, portal):
    dispatcher = staff_logins["dispatcher"]
    page = page_for(dispatcher)
    page.click(f"a[href='{LIST}']")
    page.click("text=Add order")
    page.select_option("#id_integrator", portal.integrator)
    page.fill("#id_title", "Browser: replace filter")
    page.select_option("#id_category", "hvac")
    page.select_option("#id_priority", "high")
    page.fill("#id_site", "Store 7")
    page.click("input[value='Create order']")

    expect(page.locator(".messagelist")).to_contain_text("Created order")
    reload_until_status(page, "Scheduled")  # the workers accepted and scheduled it
    expect(page.locator("#history")).to_contain_text("by the Accepted worker")
    expect(page.locator("#history")).to_contain_text("Accepted → Scheduled")

    page.click("button:text-is('Start work')")
    expect(page.locator("#order-status")).to_have_text("In progress")
    page.click("button:text-is('Complete')")
    expect(page.locator("#order-status")).to_have_text("Completed")
    expect(page.locator("#history")).to_contain_text(f"by {dispatcher.username} (staff)")
    expect(page.locator("#moves")).to_have_count(0)  # nothing left to do


def test_a_dispatcher_cancels_two_orders_at_once(page_for, staff_logins, portal):
    first = portal.post_order({**EXAMPLE, "external_reference": "BR-BULK-1"})
    second = portal.post_order({**EXAMPLE, "external_reference": "BR-BULK-2"})
    for order in (first, second):
        portal.wait_for_status(order["id"], "scheduled")
    page = page_for(staff_logins["dispatcher"])
    page.goto(f"{LIST}?integrator={portal.integrator}&status=scheduled")
    for order in (first, second):
        page.check(f"tr[data-order='{order['id']}'] input[name='selected']")
    page.select_option("select[name='to']", "cancelled")
    page.fill("input[name='reason']", "Store closed")
    page.click("button[name='apply']")

    expect(page.locator(".messagelist")).to_contain_text("Moved 2 order(s) to cancelled.")
    assert page.confirmations == ["Move the selected orders to Cancelled? This cannot be undone."]
    for order in (first, second):
        assert portal.get_order(order["id"])["status"] == "cancelled"


def test_a_dispatcher_assigns_ticked_orders_to_another_team(page_for, staff_logins, portal):
    """Ticking rows and clicking "Assign team" submits without choosing a move (the move's
    select is required only for "Apply")."""
    order = portal.post_order(
        {**EXAMPLE, "category": "electrical", "external_reference": "BR-ASSIGN-1"}
    )
    scheduled = portal.wait_for_status(order["id"], "scheduled")
    target = next(
        team
        for team in ("electrical-crew", "electrical-night")
        if team != scheduled["assigned_team"]
    )
    page = page_for(staff_logins["dispatcher"])
    page.goto(f"{LIST}?integrator={portal.integrator}&status=scheduled")
    page.check(f"tr[data-order='{order['id']}'] input[name='selected']")
    page.select_option("#bulk select[name='team']", target)
    page.click("button[name='assign']")

    expect(page.locator(".messagelist")).to_contain_text(
        f"Assigned 1 order(s) to team {team_name(target)}."  # the team's name, not its code
    )
    assert portal.get_order(order["id"])["assigned_team"] == target


def test_a_dispatcher_redrives_a_dead_letter(page_for, staff_logins, portal):
    dlq = portal.aws.dead_letter_queue("received")
    portal.aws.drain(dlq)
    portal.aws.sqs.send_message(
        QueueUrl=portal.aws.status_queue("received"), MessageBody="browser test: not an event"
    )
    wait_for(lambda: portal.aws.depth(dlq)[0] >= 1, timeout=20, what="a dead letter")

    page = page_for(staff_logins["dispatcher"])
    page.goto("/admin/operations/pipeline/")
    expect(page.locator("#status-chart")).to_be_visible()
    page.click("tr[data-status='received'] a.dead-letters")
    expect(page.locator("#dead-letters")).to_contain_text("Not a valid order event")
    page.click("#dead-letters button:has-text('Redrive')")
    expect(page.locator(".messagelist")).to_contain_text("back to the received queue")
    page.goto("/admin/operations/pipeline/")
    expect(
        page.locator("#recent-actions tbody tr", has_text=staff_logins["dispatcher"].username).first
    ).to_contain_text("sent 1 dead letter back to the received queue")
    portal.aws.drain(dlq)


def test_a_viewer_sees_no_actions_and_is_refused_when_posting(page_for, staff_logins, portal):
    order = portal.post_order({**EXAMPLE, "external_reference": "BR-VIEW-1"})
    page = page_for(staff_logins["viewer"])
    page.goto(f"{LIST}{order['id']}/")
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("#moves")).to_have_count(0)
    page.goto(LIST)
    expect(page.locator("input[name='selected']")).to_have_count(0)
    expect(page.locator("text=Add order")).to_have_count(0)

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{LIST}{order['id']}/move/",
        form={"csrfmiddlewaretoken": token, "to": "cancelled", "version": "1"},
        headers={"Referer": f"{portal.base_url}{LIST}"},
    )
    assert response.status == 403
    assert portal.get_order(order["id"])["status"] != "cancelled"


def test_the_admin_and_the_docs_work_under_the_content_security_policy(
    page_for, staff_logins, portal
):
    order = portal.post_order({**EXAMPLE, "external_reference": "BR-CSP-1"})
    portal.wait_for_status(order["id"], "scheduled")
    page = page_for(staff_logins["dispatcher"])
    violations = policy_violations(page)

    page.goto(f"{LIST}?integrator={portal.integrator}")
    expect(page.locator(f"tr[data-order='{order['id']}']")).to_be_visible()
    page.goto(f"{LIST}{order['id']}/")
    expect(page.locator("#history")).to_be_visible()
    page.goto("/admin/operations/pipeline/")
    expect(page.locator("#status-chart")).to_be_visible()
    page.goto("/v1/docs")
    # Swagger UI drew the contract: its scripts ran, and it fetched the schema.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Work-order portal API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert violations == []


PHOTO = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="module")
def technician(portal, django_db_blocker):
    """A member of the crew the portal's hvac orders go to, committed outside any test's
    transaction (the web process reads it), removed again afterwards."""
    from orders.models import Team, Technician

    with django_db_blocker.unblock():
        member, _ = Technician.objects.update_or_create(
            code="e2e-ana",
            defaults={"team": Team.objects.get(code="hvac-crew"), "name": "Ana E2E"},
        )
    yield member
    with django_db_blocker.unblock():
        member.delete()


def test_a_dispatcher_works_an_order_from_its_page(page_for, staff_logins, portal, technician):
    order = portal.post_order({**EXAMPLE, "external_reference": "BR-WORK-1"})
    portal.wait_for_status(order["id"], "scheduled")
    page = page_for(staff_logins["dispatcher"])
    violations = policy_violations(page)
    page.goto(f"{LIST}{order['id']}/")

    # On hold with one of the usual reasons; the clock pauses; resume goes back.
    page.select_option("#hold-form select[name='preset']", "Waiting for parts")
    page.fill("#hold-form input[name='detail']", "filter 20x25")
    page.click("#hold-form button")
    expect(page.locator("#order-status")).to_have_text("On hold")
    expect(page.locator("#hold-info")).to_contain_text("Waiting for parts: filter 20x25")
    expect(page.locator("#resume-target")).to_have_text("Scheduled")
    expect(page.locator("#sla-clock")).to_have_text("Paused")
    page.click("#resume-form button")
    expect(page.locator("#order-status")).to_have_text("Scheduled")
    expect(page.locator("#sla-clock")).to_have_text("Running")

    # An internal note, on the timeline, never in the integrator's API.
    page.fill("#note-form textarea", "Key is with the caretaker")
    page.click("#note-form button")
    expect(page.locator("#history li[data-kind='note']").first).to_contain_text(
        "Key is with the caretaker"
    )

    # A technician and a visit window tomorrow, with the browser's date-time picker fields.
    page.select_option("#technician-form select", technician.code)
    page.click("#technician-form button")
    expect(page.locator("#technician")).to_have_text("Ana E2E")
    page.fill("#visit-form input[name='start']", "2030-01-15T09:00")
    page.fill("#visit-form input[name='end']", "2030-01-15T11:00")
    page.click("#visit-form button")
    expect(page.locator(".messagelist")).to_contain_text("Visit booked")
    expect(page.locator("#visit-window")).to_contain_text("2030-01-15 09:00:00 UTC")

    # A photo: browser → S3 (the emulator) → back to this page, shown as a preview.
    page.set_input_files(
        "#attach-form input[type=file]",
        files=[{"name": "filter.png", "mimeType": "image/png", "buffer": PHOTO}],
    )
    page.select_option("#attach-form select[name='visibility']", "public")
    page.click("#attach-form button")
    expect(page.locator(".messagelist")).to_contain_text("Attached filter.png")
    preview = page.locator("#history img.wo-preview").first
    expect(preview).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 1", arg=preview.element_handle()
    )

    page.click("#check-in-form button")  # the visit is in 2030: the page asks first
    assert page.confirmations[-1].startswith("The visit is booked for 2030-01-15 09:00")
    expect(page.locator("#order-status")).to_have_text("In progress")
    page.click("#check-out-form button")
    expect(page.locator("#checked-out")).not_to_have_text("—")
    page.click("button[data-move='completed']")
    expect(page.locator("#order-status")).to_have_text("Completed")

    seen = portal.get_order(order["id"])
    assert seen["technician"]["name"] == "Ana E2E"
    assert "caretaker" not in str(seen)
    assert violations == []

"""Running the pipeline in a real browser, in staff's words: discarding dead letters (one, then
all, each asked first and audited), a viewer who may only look, the pipeline and the dashboard
with status labels and times in the staff member's zone, and webhook deliveries linking to
their orders. The dashboard, pipeline and dead-letter pages are saved as screenshots
(.state/test-artifacts/screens/; docs/screenshots/ holds a set taken this way)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Portal, StaffLogin
from tests.integration.factories import EXAMPLE
from tests.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
LIST = "/admin/orders/workorder/"
PIPELINE = "/admin/operations/pipeline/"
SCREENS = ARTIFACTS / "screens"
STATUS = "in_progress"
ZONE = "Europe/Madrid"
#: What staff read nowhere: the stored slugs of statuses made of more than one word.
SLUGS = re.compile(r"\b(in_progress|on_hold)\b")
BROWSER = {"timezone_id": ZONE, "viewport": {"width": 1400, "height": 900}}


def shoot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def zone_abbreviation() -> str:
    return datetime.now(UTC).astimezone(ZoneInfo(ZONE)).tzname()


@dataclass
class DeadLetters:
    """Dead letters the in-progress worker made of what it could not handle."""

    portal: Portal

    @property
    def queue(self) -> str:
        return self.portal.aws.dead_letter_queue(STATUS)

    def count(self) -> int:
        return self.portal.aws.depth(self.queue)[0]

    def make(self, *, malformed: int = 0, misrouted: int = 0) -> None:
        """Send the in-progress queue bodies that are not events, and real events of orders
        just received (taken from the tap); wait until the worker has dead-lettered them all."""
        aws, expected = self.portal.aws, self.count() + malformed + misrouted
        bodies = [f"browser test: not an event {n}" for n in range(malformed)]
        bodies += [self._an_event_of_another_status() for _ in range(misrouted)]
        for body in bodies:
            aws.sqs.send_message(QueueUrl=aws.status_queue(STATUS), MessageBody=body)
        wait_for(lambda: self.count() >= expected, timeout=30, what=f"{expected} dead letters")

    def _an_event_of_another_status(self) -> str:
        order = self.portal.post_order({**EXAMPLE, "external_reference": f"OPS-{uuid.uuid4()}"})
        found: list[str] = []

        def tapped() -> bool:
            for message in self.portal.aws.drain(self.portal.tap):
                body = json.loads(message["Body"])
                if body.get("subject") == order["id"] and body["data"]["order"]["status"] == (
                    "received"
                ):
                    found.append(message["Body"])
            return bool(found)

        wait_for(tapped, timeout=15, what=f"the received event of {order['id']} on the tap")
        return found[0]


@pytest.fixture
def dead_letters(portal) -> Iterator[DeadLetters]:
    letters = DeadLetters(portal)
    portal.aws.drain(letters.queue)
    yield letters
    portal.aws.drain(letters.queue)


def test_a_dispatcher_discards_one_dead_letter_then_all(
    page_for, staff_logins, portal, dead_letters
):
    dead_letters.make(malformed=2, misrouted=1)
    dispatcher = staff_logins["dispatcher"]
    page = page_for(dispatcher, **BROWSER)

    page.goto(PIPELINE)
    page.click(f"tr[data-status='{STATUS}'] a.dead-letters")
    expect(page.locator("#content h1")).to_have_text("Dead letters: In progress")
    expect(page.locator("#dead-letters")).to_contain_text("Not a valid order event")
    expect(page.locator("#dead-letters")).to_contain_text(
        "It belongs on the Received queue, not the In progress queue."
    )
    expect(page.locator("#dead-letters")).to_contain_text(zone_abbreviation())

    malformed = page.locator("#dead-letters tbody tr", has_text="Not a valid order event").first
    malformed.locator("button", has_text="Discard").click()

    expect(page.locator(".messagelist")).to_contain_text(
        "Discarded 1 dead letter from the in progress queue, for good."
    )
    assert page.confirmations == [
        "Discard this dead letter? It is deleted for good and cannot be sent back."
    ]
    expect(page.locator("#dead-letter-count")).to_contain_text("2 dead letters in the queue")
    expect(page.locator("#redrive-audit")).to_contain_text("discarded 1 dead letter")
    assert dead_letters.count() == 2
    shoot(page, "dead-letters")

    page.click("#discard-all button")

    expect(page.locator(".messagelist")).to_contain_text(
        "Discarded 2 dead letters from the in progress queue, for good."
    )
    assert page.confirmations[1].startswith("Discard all 2 dead letters of the in progress queue?")
    expect(page.locator("#dead-letters")).to_contain_text("No dead letters")
    audit = page.locator("#redrive-audit tbody tr")
    expect(audit.nth(0)).to_contain_text(f"{dispatcher.username}")
    expect(audit.nth(0)).to_contain_text("discarded 2 dead letters")
    expect(audit.nth(1)).to_contain_text("discarded 1 dead letter")
    expect(audit.nth(0)).to_contain_text(zone_abbreviation())
    assert dead_letters.count() == 0
    assert portal.aws.depth(portal.aws.status_queue(STATUS))[0] == 0  # gone, not sent back

    page.goto(PIPELINE)
    recent = page.locator("#recent-actions")
    expect(recent).to_contain_text(
        f"{dispatcher.username} discarded 2 dead letters from the in progress queue"
    )
    assert not SLUGS.search(recent.inner_text())


def test_a_viewer_sees_no_discard_buttons_and_is_refused_when_posting(
    page_for, staff_logins, portal, dead_letters
):
    dead_letters.make(malformed=1)
    page = page_for(staff_logins["viewer"], **BROWSER)

    page.goto(f"{PIPELINE}{STATUS}/dead-letters/")
    expect(page.locator("#dead-letters")).to_contain_text("Not a valid order event")
    expect(page.locator("button", has_text="Discard")).to_have_count(0)
    expect(page.locator("#discard-all")).to_have_count(0)
    expect(page.locator("button", has_text="Redrive")).to_have_count(0)

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{PIPELINE}{STATUS}/dead-letters/",
        form={"csrfmiddlewaretoken": token, "action": "discard"},
        headers={"Referer": f"{portal.base_url}{PIPELINE}"},
    )
    assert response.status == 403
    assert dead_letters.count() == 1


def test_the_pipeline_reads_in_labels_with_times_in_the_staff_zone(
    page_for, staff_logins, portal, dead_letters
):
    for n in (1, 2):
        order = portal.post_order({**EXAMPLE, "external_reference": f"OPS-PIPE-{n}"})
    portal.wait_for_status(order["id"], "scheduled")
    dead_letters.make(malformed=1)
    page = page_for(staff_logins["dispatcher"], **BROWSER)

    page.goto(PIPELINE)

    expect(page.locator(f"#pipeline tr[data-status='{STATUS}'] td").first).to_have_text(
        "In progress"
    )
    expect(page.locator("#pipeline tr[data-status='on_hold'] td").first).to_have_text("On hold")
    expect(page.locator("#status-chart")).to_contain_text("In progress")
    expect(page.locator("#status-chart")).to_contain_text("On hold")
    axis = page.locator("#throughput-axis")
    expect(axis).to_contain_text(zone_abbreviation())
    assert "UTC" not in axis.text_content()  # an SVG group: no inner_text
    assert not SLUGS.search(page.locator("#content-main").inner_text())
    shoot(page, "pipeline")


def test_the_dashboard_names_statuses_by_their_labels(page_for, staff_logins, portal, dead_letters):
    order = portal.post_order({**EXAMPLE, "external_reference": "OPS-DASH-1"})
    portal.wait_for_status(order["id"], "scheduled")
    dead_letters.make(malformed=1)
    page = page_for(staff_logins["dispatcher"], **BROWSER)

    def counted() -> bool:
        """The relay counts the orders again within seconds of a change."""
        page.goto("/admin/")
        return page.locator("td.wo-count[data-status='scheduled']").inner_text() != "0"

    wait_for(counted, timeout=30, what="the relay to count the scheduled order")

    dashboard = page.locator("#dashboard")
    expect(dashboard).to_contain_text("In progress")
    expect(dashboard).to_contain_text("Scheduled")
    expect(dashboard.locator("a[data-status='in_progress']")).to_contain_text("In progress: 1")
    # Counted by the relay a few seconds ago, at a time in the staff member's zone.
    expect(page.locator("#dashboard-counted")).to_contain_text("Orders counted at")
    expect(page.locator("#dashboard-counted")).to_contain_text(zone_abbreviation())
    assert not SLUGS.search(dashboard.inner_text())
    shoot(page, "dashboard")

    dashboard.locator("a[data-status='in_progress']").click()
    expect(page.locator("#content h1")).to_have_text("Dead letters: In progress")


@pytest.fixture(scope="module")
def hooks_login(portal, django_db_blocker) -> Iterator[StaffLogin]:
    """A staff member who may look at webhooks, committed for the web process (module scope:
    outside any test's transaction, which the web process could not see); removed after."""
    from django.contrib.auth.models import Permission, User

    username, password = f"hooks-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    with django_db_blocker.unblock():
        user = User.objects.create_user(username, password=password, is_staff=True)
        user.user_permissions.set(
            Permission.objects.filter(
                codename__in=["view_webhookdelivery", "view_webhookendpoint", "view_workorder"]
            )
        )
    yield StaffLogin(username, password)
    with django_db_blocker.unblock():
        user.delete()


@pytest.fixture(scope="module")
def delivered(portal, django_db_blocker) -> Iterator[dict]:
    """A delivered webhook for a real order of the portal, recorded (committed, as above) for
    an endpoint of an integrator of its own; the endpoint and the integrator removed after."""
    from integrators.services import create_integrator
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    order = portal.post_order({**EXAMPLE, "external_reference": "OPS-HOOK-1"})
    with django_db_blocker.unblock():
        integrator, _ = create_integrator("Hooks", slug=f"hooks-{uuid.uuid4().hex[:6]}")
        endpoint = WebhookEndpoint.objects.create(
            integrator=integrator, url="https://hooks.example.com/orders", secret="s"
        )
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=uuid.uuid4().hex,
            event_type="order.status_changed",
            order_id=order["id"],
            status="scheduled",
            payload="{}",
            state=WebhookDelivery.SUCCEEDED,
        )
    yield order
    with django_db_blocker.unblock():
        endpoint.delete()
        integrator.delete()


def test_a_webhook_delivery_links_to_its_order(page_for, hooks_login, delivered):
    page = page_for(hooks_login, **BROWSER)

    page.goto("/admin/webhooks/webhookdelivery/")
    link = page.locator(f"a.wh-order[title='{delivered['id']}']")
    expect(link).to_have_text(delivered["id"][:12] + "…")
    row = page.locator("#result_list tbody tr", has=link)
    expect(row).to_contain_text("Status changed")
    expect(row).to_contain_text("Scheduled")
    expect(row).to_contain_text(zone_abbreviation())
    assert "order.status_changed" not in row.inner_text()
    shoot(page, "webhook-deliveries")

    link.click()
    expect(page).to_have_url(re.compile(f"{LIST}{delivered['id']}/$"))
    expect(page.locator("#content-main")).to_contain_text("OPS-HOOK-1")

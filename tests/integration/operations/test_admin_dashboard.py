"""The admin index's dashboard: orders by status, SLA breached and due soon, unassigned orders
and dead letters, each linking to the page that lists them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.container import order_repository
from tests.conftest import unique_prefix
from tests.integration.factories import moved, new_order
from tests.integration.orders.test_admin_orders import staff_client
from tests.support import AwsStack, services_on


@pytest.fixture
def quiet_stack(emulator):
    """A stack of its own: the dashboard counts everything in it."""
    with services_on(AwsStack.provision(emulator, unique_prefix("dash"))) as stack:
        yield stack


def store(*steps) -> None:
    repo = order_repository()
    order, _, message = steps[0]
    repo.add(order, message)
    for previous, (changed, _, message) in zip(steps, steps[1:], strict=False):
        repo.save_move(
            changed,
            message,
            expected_status=previous[0].status,
            expected_version=previous[0].version,
        )


def figure(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}"[^>]*>([^<]+)<', page).group(1)


@pytest.mark.django_db
def test_the_index_shows_what_needs_attention(quiet_stack):
    long_ago = datetime.now(UTC) - timedelta(days=10)
    late = new_order(created_at=long_ago, priority="urgent")
    store(late, moved(late[0], "accepted"))  # accepted ten days ago: its SLA has run out
    store(new_order())  # received just now: no SLA yet
    quiet_stack.sqs.send_message(
        QueueUrl=quiet_stack.dead_letter_queue("rejected"), MessageBody='{"broken": true}'
    )
    viewer = staff_client("view_workorder", username="viewer")

    page = viewer.get("/admin/").content.decode()

    counts = dict(re.findall(r'data-status="([a-z_]+)">(\d+)<', page))
    assert counts["accepted"] == "1" and counts["received"] == "1" and counts["completed"] == "0"
    assert figure(page, "dashboard-breached") == "1"
    assert figure(page, "dashboard-due-soon") == "1"
    assert figure(page, "dashboard-unassigned") == "1"
    assert figure(page, "dashboard-dead-letters") == "1"
    # In words: the labels staff read elsewhere, each dead-letter count linking to its page.
    assert re.search(r'\?status=in_progress">In progress</a>', page)
    assert re.search(r'/rejected/dead-letters/" data-status="rejected">Rejected: 1</a>', page)
    assert not re.search(r">[^<]*\b(in_progress|on_hold|rejected)\b[^<]*<", page)
    assert "?sla=breached" in page and "?waiting=unassigned" in page


@pytest.mark.django_db
def test_staff_who_may_not_view_orders_get_no_dashboard_and_no_view_site_link(quiet_stack):
    keeper = staff_client("view_team", username="keeper")

    page = keeper.get("/admin/").content.decode()

    assert 'id="dashboard"' not in page
    assert "View site" not in page


@pytest.mark.django_db
def test_no_menu_filter_box_that_looks_like_the_order_search(quiet_stack):
    viewer = staff_client("view_workorder", username="viewer")

    page = viewer.get("/admin/orders/workorder/").content.decode()

    assert 'id="nav-filter"' not in page
    assert "Search orders" in page


@pytest.mark.django_db
def test_the_figures_the_relay_counted_are_shown_without_counting_again(quiet_stack, settings):
    """What the relay of group 0 keeps (orders.figures): a page reads one item, not 512
    counts, and says when the orders were counted; once too old, the page counts itself."""
    from portal import container

    settings.EVENT_RELAY_GROUP = 0
    late = new_order(created_at=datetime.now(UTC) - timedelta(days=10), priority="urgent")
    store(late, moved(late[0], "accepted"))
    refresher = container.figures_refresher()
    assert refresher is not None and refresher.refresh(0.0)
    store(new_order())  # after the count: not in the kept figures yet
    viewer = staff_client("view_workorder", username="viewer")
    client = container.client("dynamodb")
    queries: list[str] = []

    def count(model, **_):
        queries.append(model.name)

    client.meta.events.register("before-call.dynamodb.Query", count, unique_id="dash-q")
    try:
        page = viewer.get("/admin/").content.decode()
    finally:
        client.meta.events.unregister("before-call.dynamodb.Query", unique_id="dash-q")

    counts = dict(re.findall(r'data-status="([a-z_]+)">(\d+)<', page))
    assert counts["accepted"] == "1" and counts["received"] == "0"  # as counted
    assert figure(page, "dashboard-breached") == "1"
    assert queries == []
    assert re.search(r"Orders counted at \d\d:\d\d:\d\d \w+; counted again every few seconds", page)

    settings.ADMIN_FIGURES_MAX_AGE_SECONDS = 0  # kept figures too old: counted for the page
    page = viewer.get("/admin/").content.decode()
    counts = dict(re.findall(r'data-status="([a-z_]+)">(\d+)<', page))
    assert counts["received"] == "1" and "counted again every few seconds" not in page
    assert re.search(r"Orders counted at \d\d:\d\d:\d\d \w+\.<", page)


def test_only_the_relay_of_group_zero_counts_the_figures(settings):
    from portal import container

    settings.EVENT_RELAY_GROUP = 1
    assert container.figures_refresher() is None
    settings.EVENT_RELAY_GROUP, settings.ADMIN_FIGURES_REFRESH_SECONDS = 0, 0
    assert container.figures_refresher() is None

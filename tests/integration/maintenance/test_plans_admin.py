"""Staff run maintenance plans in the admin: the list says where, how often and when next in
words; a plan is added through the same rules as the API (refusals beside their box); its
page lists the coming occurrences in the reader's time zone, each with a skip button and a
reason box, and what became of the past ones with links to their orders; pause, resume,
archive and restore are buttons; nothing is deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from maintenance import services
from maintenance.models import MaintenancePlan
from maintenance.scheduler import Scheduler

from .conftest import at_madrid, plan_body

pytestmark = pytest.mark.usefixtures("aws")
LIST = "/admin/maintenance/maintenanceplan/"


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("plans-boss", password="pw-not-used"))
    return client


@pytest.fixture
def plan(owner, unit, memory_orders) -> MaintenancePlan:
    return services.create_plan(
        owner.model,
        plan_body(asset_id=str(unit.pk)),
        orders=memory_orders,
        now=at_madrid(2026, 12, 20, 10, 0),
    )


def test_the_list_says_where_how_often_and_the_state_in_words(staff, plan, unit):
    page = staff.get(LIST).content.decode()
    assert "Monthly filter change" in page
    assert f"Rooftop unit 1 ({unit.code}) at {unit.site.code}" in page
    assert "Every month on day 1 at 07:00 (Europe/Madrid)" in page
    assert "Active" in page
    assert "FREQ=" not in page.split("<tbody>")[1].split("</tbody>")[0]


def test_a_plan_is_added_through_the_rules_with_refusals_beside_their_box(staff, owner, store):
    form = {
        "integrator": owner.model.pk,
        "site": store.pk,
        "name": "Weekly walk-through",
        "recurrence": "FREQ=HOURLY",
        "starts_on": "2027-01-04",
        "at": "08:30",
        "lead_days": 0,
        "window_hours": 2,
        "order_title": "Walk the store",
        "order_category": "general",
        "order_priority": "low",
        "order_description": "",
    }
    refused = staff.post(f"{LIST}add/", form)
    assert refused.status_code == 200
    assert "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY." in refused.content.decode()
    assert not MaintenancePlan.objects.exists()

    saved = staff.post(f"{LIST}add/", {**form, "recurrence": "FREQ=WEEKLY;BYDAY=MO"})
    assert saved.status_code == 302, saved.content.decode()[:3000]
    plan = MaintenancePlan.objects.get()
    assert plan.recurrence == "FREQ=WEEKLY;BYDAY=MO" and plan.order_priority == "low"
    assert plan.next_due_at is not None and plan.version == 1


def test_the_plans_page_lists_coming_occurrences_in_the_readers_zone_with_skip_buttons(
    staff, plan, memory_orders
):
    staff.cookies["staff_tz"] = "America/New_York"
    page = staff.get(f"{LIST}{plan.pk}/change/").content.decode()
    assert "Coming occurrences" in page and "Past occurrences" in page
    # 07:00 in Madrid is 01:00 in New York.
    assert "Fri 1 Jan 2027, 01:00" in page, page[page.find("Coming occ") :][:1500]
    assert page.count('name="reason"') == 10
    assert "Pause the plan" in page and "Archive the plan" in page

    second = at_madrid(2027, 2, 1, 7, 0)
    skipped = staff.post(
        f"{LIST}{plan.pk}/skip/",
        {"due_at": second.isoformat(), "reason": "Store closed for stocktaking"},
    )
    assert skipped.status_code == 302
    page = staff.get(f"{LIST}{plan.pk}/change/").content.decode()
    assert "Skipped: Store closed for stocktaking" in page
    assert "Take back the skip" in page
    refused = staff.post(
        f"{LIST}{plan.pk}/skip/", {"due_at": second.isoformat(), "reason": ""}, follow=True
    )
    assert "Say why the occurrence is skipped." in refused.content.decode()


def test_past_occurrences_link_to_their_orders_and_state_buttons_work(staff, plan, memory_orders):
    due = at_madrid(2027, 1, 1, 7, 0)
    Scheduler(memory_orders, clock=lambda: due, grace=timedelta(minutes=5)).run_once()
    page = staff.get(f"{LIST}{plan.pk}/change/").content.decode()
    (order_id,) = memory_orders.orders
    assert f"/admin/orders/workorder/{order_id}/" in page
    paused = staff.post(f"{LIST}{plan.pk}/state/pause/", follow=True).content.decode()
    assert "Paused: no orders are created until it is resumed." in paused
    assert "This plan is paused" in paused and "Resume the plan" in paused
    staff.post(f"{LIST}{plan.pk}/state/archive/")
    plan.refresh_from_db()
    assert plan.archived_at is not None
    assert staff.get(f"{LIST}{plan.pk}/delete/").status_code in (302, 403)
    assert MaintenancePlan.objects.filter(pk=plan.pk).exists()

"""The scheduler turns each due occurrence into exactly one order, whatever runs twice, stops
half-way or runs beside another scheduler: an order is created its lead time before it is
due, at the plan's place, with the occurrence as its window; a skipped occurrence makes none;
a paused plan makes none until resumed, and then counts from then; an order that can never be
created is recorded with why and the plan goes on; a store that is down holds the occurrence
and the plan counts as overdue. (The orders live in memory here, admitting an id once as the
orders' store does: ``conftest.MemoryOrders``; the end-to-end test uses the real ones.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from kernel import metrics
from maintenance import services
from maintenance.models import MaintenancePlan, PlanOccurrence
from maintenance.ports import occurrence_order_id
from maintenance.scheduler import Scheduler
from portal.container import planned_work

from .conftest import MADRID, MemoryOrders, at_madrid, plan_body

MADE = at_madrid(2026, 12, 20, 10, 0)
FIRST_DUE = at_madrid(2027, 1, 1, 7, 0)


def scheduler_at(orders: MemoryOrders, moment: datetime) -> Scheduler:
    return Scheduler(orders, clock=lambda: moment, grace=timedelta(minutes=5))


def plan_on(unit, owner, orders, **changes) -> MaintenancePlan:
    body = plan_body(asset_id=str(unit.pk), **changes)
    return services.create_plan(owner.model, body, orders=orders, now=MADE)


def test_an_occurrence_makes_one_order_its_lead_time_before_it_is_due(owner, unit, memory_orders):
    plan = plan_on(unit, owner, memory_orders)
    assert plan.next_due_at == FIRST_DUE
    assert plan.next_create_at == FIRST_DUE - timedelta(days=3)

    early = scheduler_at(memory_orders, FIRST_DUE - timedelta(days=3, minutes=1)).run_once()
    assert early.created == 0 and not memory_orders.orders

    on_time = scheduler_at(memory_orders, FIRST_DUE - timedelta(days=3)).run_once()
    assert on_time.created == 1
    (order,) = memory_orders.orders.values()
    assert order.order_id == occurrence_order_id(str(plan.pk), FIRST_DUE)
    assert order.integrator == owner.slug
    assert (order.site_id, order.asset_id) == (str(unit.site_id), str(unit.pk))
    assert (order.title, order.category, order.priority) == ("Change the filters", "hvac", "normal")
    assert (order.plan_id, order.plan_name) == (str(plan.pk), "Monthly filter change")
    assert (order.due_at, order.window_end) == (FIRST_DUE, FIRST_DUE + timedelta(hours=4))

    again = scheduler_at(memory_orders, FIRST_DUE).run_once()
    assert again.created == again.already == 0 and len(memory_orders.orders) == 1
    plan.refresh_from_db()
    assert plan.next_due_at == at_madrid(2027, 2, 1, 7, 0)
    fate = plan.occurrences.get()
    assert (fate.due_at, fate.state, fate.order_id) == (FIRST_DUE, "created", order.order_id)


class CrashAfterTheOrder:
    """Creates the order, then dies before the scheduler records it (a kill mid-pass)."""

    def __init__(self, orders: MemoryOrders):
        self.orders = orders
        self.crashed = False

    def check_template(self, template):
        self.orders.check_template(template)

    def create(self, order):
        created = self.orders.create(order)
        if not self.crashed:
            self.crashed = True
            raise ConnectionResetError("killed after the order was written")
        return created


def test_a_pass_repeated_after_dying_half_way_records_the_order_it_made_once(
    owner, unit, memory_orders
):
    plan = plan_on(unit, owner, memory_orders)
    dying = CrashAfterTheOrder(memory_orders)
    before = metrics.PLAN_OCCURRENCES.labels("already")._value.get()

    first = scheduler_at(dying, FIRST_DUE).run_once()
    assert first.failed == 1 and len(memory_orders.orders) == 1
    plan.refresh_from_db()
    assert plan.next_due_at == FIRST_DUE and not plan.occurrences.exists()
    assert "Could not create the order yet" in plan.last_error

    second = scheduler_at(dying, FIRST_DUE).run_once()
    assert (second.created, second.already) == (0, 1)
    assert len(memory_orders.orders) == 1
    plan.refresh_from_db()
    assert plan.occurrences.get().state == "created" and plan.last_error == ""
    assert metrics.PLAN_OCCURRENCES.labels("already")._value.get() == before + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite has no row locks (FOR UPDATE SKIP LOCKED): CI runs this on PostgreSQL",
)
def test_two_schedulers_at_once_make_one_order_per_occurrence(owner, unit, memory_orders):
    # Twelve plans, each nine daily occurrences behind: 108 orders, each exactly once.
    plans = [
        plan_on(
            unit,
            owner,
            memory_orders,
            name=f"Daily check {i}",
            recurrence="FREQ=DAILY",
            lead_days=0,
            starts_on="2026-12-20",
            at="12:00",
        )
        for i in range(12)
    ]
    moment = at_madrid(2026, 12, 28, 12, 30)
    results = []

    def run() -> None:
        try:
            results.append(scheduler_at(memory_orders, moment).run_once())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    assert len(memory_orders.orders) == 12 * 9
    assert sum(r.created for r in results) == 12 * 9
    assert sum(r.already for r in results) == 0
    assert PlanOccurrence.objects.filter(plan__in=plans, state="created").count() == 12 * 9


def test_a_skipped_occurrence_makes_no_order_and_a_skip_can_be_taken_back(
    owner, unit, memory_orders
):
    plan = plan_on(unit, owner, memory_orders, lead_days=0)
    second_due = at_madrid(2027, 2, 1, 7, 0)
    services.skip_occurrence(
        plan, FIRST_DUE, reason="Store closed for stocktaking", by="staff:dana"
    )
    services.skip_occurrence(plan, second_due, reason="Changed in January", by="staff:dana")
    services.unskip_occurrence(plan, second_due)

    scheduler_at(memory_orders, second_due).run_once()
    made = {o.due_at for o in memory_orders.orders.values()}
    assert made == {second_due}
    fates = {f.due_at: (f.state, f.reason) for f in plan.occurrences.all()}
    assert fates[FIRST_DUE] == ("skipped", "Store closed for stocktaking")
    assert fates[second_due][0] == "created"


def test_a_skip_is_refused_once_the_order_exists_or_the_time_is_not_an_occurrence(
    owner, unit, memory_orders
):
    from kernel.errors import Conflict, ValidationError

    plan = plan_on(unit, owner, memory_orders)
    scheduler_at(memory_orders, FIRST_DUE).run_once()
    with pytest.raises(Conflict, match="cancel the order instead"):
        services.skip_occurrence(plan, FIRST_DUE, reason="too late", by="staff:dana")
    with pytest.raises(ValidationError, match="no occurrence at that time"):
        services.skip_occurrence(
            plan, FIRST_DUE + timedelta(days=40), reason="not one", by="staff:dana"
        )
    with pytest.raises(ValidationError, match="Say why"):
        services.skip_occurrence(plan, at_madrid(2027, 2, 1, 7, 0), reason=" ", by="staff:dana")


def test_a_paused_plan_makes_no_orders_and_resumes_counting_from_then(
    owner, unit, memory_orders, monkeypatch
):
    plan = plan_on(unit, owner, memory_orders, lead_days=0)
    services.pause_plan(plan)
    scheduler_at(memory_orders, at_madrid(2027, 3, 15)).run_once()
    assert not memory_orders.orders

    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: at_madrid(2027, 3, 15))
    plan = services.resume_plan(plan)
    assert plan.paused_at is None and plan.next_due_at == at_madrid(2027, 4, 1, 7, 0)
    scheduler_at(memory_orders, at_madrid(2027, 4, 1, 7, 0)).run_once()
    assert [o.due_at for o in memory_orders.orders.values()] == [at_madrid(2027, 4, 1, 7, 0)]


def test_an_order_that_can_never_be_made_is_recorded_with_why_and_the_plan_goes_on(
    owner, unit, memory_orders
):
    plan = plan_on(unit, owner, memory_orders, lead_days=0)
    memory_orders.refuse = "The asset is retired: reinstate it first."
    result = scheduler_at(memory_orders, FIRST_DUE).run_once()
    assert result.failed == 1
    plan.refresh_from_db()
    fate = plan.occurrences.get()
    assert (fate.state, fate.reason) == ("failed", "The asset is retired: reinstate it first.")
    assert plan.next_due_at == at_madrid(2027, 2, 1, 7, 0)
    assert plan.last_error == "The asset is retired: reinstate it first."


def test_a_store_that_is_down_holds_the_occurrence_and_the_plan_counts_as_overdue(
    owner, unit, memory_orders
):
    plan = plan_on(unit, owner, memory_orders, lead_days=0)
    memory_orders.fail = ConnectionError
    scheduler_at(memory_orders, FIRST_DUE + timedelta(minutes=10)).run_once()
    plan.refresh_from_db()
    assert plan.next_due_at == FIRST_DUE and not plan.occurrences.exists()
    assert metrics.PLANS_OVERDUE._value.get() == 1
    assert metrics.SCHEDULER_LAST_RUN._value.get() > 0

    memory_orders.fail = None
    scheduler_at(memory_orders, FIRST_DUE + timedelta(minutes=11)).run_once()
    assert len(memory_orders.orders) == 1 and metrics.PLANS_OVERDUE._value.get() == 0


def test_an_assets_page_learns_what_is_planned_on_it(owner, unit, memory_orders, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: MADE)
    plan = plan_on(unit, owner, memory_orders)
    services.skip_occurrence(plan, at_madrid(2027, 2, 1, 7, 0), reason="Closed", by="staff:dana")
    work = planned_work().upcoming_at_asset(str(unit.pk), limit=3)
    assert [
        (w.plan_name, w.due_at.astimezone(MADRID).strftime("%m-%d %H:%M"), w.state) for w in work
    ] == [
        ("Monthly filter change", "01-01 07:00", "Planned"),
        ("Monthly filter change", "02-01 07:00", "Skipped: Closed"),
        ("Monthly filter change", "03-01 07:00", "Planned"),
    ]
    assert work[0].creates_at == FIRST_DUE - timedelta(days=3)
    assert planned_work().active_plans_at_asset(str(unit.pk)) == ["Monthly filter change"]
    services.archive_plan(plan)
    assert planned_work().active_plans_at_asset(str(unit.pk)) == []
    assert MADE.tzinfo is not None and UTC


def test_the_scheduler_role_says_what_each_pass_did_and_stops_when_asked(
    owner, unit, memory_orders, caplog
):
    plan_on(unit, owner, memory_orders, lead_days=0)
    stop = threading.Event()
    scheduler = scheduler_at(memory_orders, FIRST_DUE)
    original = scheduler.run_once

    def once_then_stop():
        result = original()
        stop.set()
        return result

    scheduler.run_once = once_then_stop
    with caplog.at_level("INFO", logger="maintenance.scheduler"):
        scheduler.run(stop, interval=0.01)
    assert len(memory_orders.orders) == 1
    said = [r.getMessage() for r in caplog.records if r.name == "maintenance.scheduler"]
    assert said == ["scheduler pass: 1 plan(s), 1 order(s) created, 0 already there, 0 failed"]

"""The scheduler: turns maintenance plans' due occurrences into orders, through the orders'
own services (``OrderMaker``), exactly once per occurrence.

Why exactly once, whatever runs twice or stops half-way:

- an occurrence's order id derives from the plan and the due time, and the orders' store
  admits an id once (a conditional put): a pass repeated after a crash finds the order there
  and only records it;
- a pass takes one plan at a time with ``SELECT … FOR UPDATE SKIP LOCKED``: two schedulers
  share the due plans and never work on the same one; a skip takes the same lock;
- what became of each occurrence is a row unique per plan and due time.

Run one or more (``python manage.py run_scheduler``); each pass ends by exporting when it
finished and how many plans are overdue (``kernel.metrics``), which the alerts watch."""

from __future__ import annotations

import logging
import threading
import time as wall_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kernel import metrics
from kernel.errors import ValidationError

from .models import MaintenancePlan, PlanOccurrence
from .ports import OrderMaker, PlannedOrder, occurrence_order_id
from .services import recurrence_of

log = logging.getLogger(__name__)

#: Occurrences one plan may create in one pass (a plan that was paused for years, then
#: resumed, starts from now; this bounds a scheduler that was down for long).
OCCURRENCES_PER_PASS = 50
PLANS_PER_PASS = 500


@dataclass
class PassResult:
    plans: int = 0
    created: int = 0
    already: int = 0
    failed: int = 0


class Scheduler:
    def __init__(
        self,
        orders: OrderMaker,
        *,
        clock: Callable[[], datetime] = timezone.now,
        grace: timedelta = timedelta(minutes=5),
    ):
        self._orders = orders
        self._clock = clock
        self._grace = grace

    def run_once(self) -> PassResult:
        """Handle every plan due now (each once), then export the pass's figures."""
        now = self._clock()
        result = PassResult()
        seen: list[str] = []
        while result.plans < PLANS_PER_PASS:
            with transaction.atomic():
                plan = (
                    MaintenancePlan.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("site", "asset", "integrator")
                    .filter(paused_at__isnull=True, archived_at__isnull=True)
                    .filter(next_create_at__lte=now)
                    .exclude(pk__in=seen)
                    .order_by("next_create_at")
                    .first()
                )
                if plan is None:
                    break
                seen.append(plan.pk)
                self._catch_up(plan, now, result)
            result.plans += 1
        self._export(now)
        return result

    def run(self, stop: threading.Event, *, interval: float) -> None:
        """Pass after pass until ``stop`` is set (SIGTERM): a pass in progress finishes."""
        while not stop.is_set():
            try:
                result = self.run_once()
                if result.plans:
                    log.info(
                        "scheduler pass: %s plan(s), %s order(s) created, %s already there, "
                        "%s failed",
                        result.plans,
                        result.created,
                        result.already,
                        result.failed,
                    )
            except Exception:  # the database went away: say so, try again next time
                log.exception("scheduler pass failed")
            stop.wait(interval)

    def _catch_up(self, plan: MaintenancePlan, now: datetime, result: PassResult) -> None:
        recurrence = recurrence_of(plan)
        lead = timedelta(days=plan.lead_days)
        due = plan.next_due_at
        handled = 0
        while due is not None and due - lead <= now and handled < OCCURRENCES_PER_PASS:
            if not plan.occurrences.filter(due_at=due).exists():
                try:
                    self._create(plan, due, result)
                except Exception as exc:  # may work later: this occurrence waits
                    metrics.PLAN_OCCURRENCES.labels("failed").inc()
                    result.failed += 1
                    log.exception("could not create a plan's order", extra={"plan": str(plan.pk)})
                    plan.last_error = f"Could not create the order yet ({type(exc).__name__})."
                    break
            due = recurrence.after(due)
            handled += 1
        plan.next_due_at = due
        plan.next_create_at = due - lead if due is not None else None
        plan.save(update_fields=["next_due_at", "next_create_at", "last_error"])

    def _create(self, plan: MaintenancePlan, due: datetime, result: PassResult) -> None:
        order = planned_order(plan, due)
        try:
            created = self._orders.create(order)
        except ValidationError as exc:  # it never will be: say why and go on
            reason = "; ".join(p for problems in exc.errors.values() for p in problems)
            self._record(plan, due, PlanOccurrence.FAILED, reason=reason[:500])
            metrics.PLAN_OCCURRENCES.labels("failed").inc()
            result.failed += 1
            plan.last_error = reason[:500]
            return
        self._record(plan, due, PlanOccurrence.CREATED, order_id=order.order_id)
        metrics.PLAN_OCCURRENCES.labels("created" if created else "already").inc()
        if created:
            result.created += 1
        else:
            result.already += 1
        plan.last_error = ""

    @staticmethod
    def _record(plan: MaintenancePlan, due: datetime, state: str, **fields: str) -> None:
        PlanOccurrence.objects.create(
            plan=plan,
            due_at=due,
            state=state,
            by="scheduler",
            recorded_at=timezone.now(),
            **fields,
        )

    def _export(self, now: datetime) -> None:
        overdue = MaintenancePlan.objects.filter(
            paused_at__isnull=True,
            archived_at__isnull=True,
            next_create_at__lt=now - self._grace,
        ).count()
        metrics.PLANS_OVERDUE.set(overdue)
        metrics.SCHEDULER_LAST_RUN.set(wall_time.time())


def planned_order(plan: MaintenancePlan, due: datetime) -> PlannedOrder:
    """The order an occurrence makes: the plan's template, at the plan's place, wanted from
    the due time for the plan's window."""
    template = plan.template
    return PlannedOrder(
        order_id=occurrence_order_id(str(plan.pk), due),
        integrator=plan.integrator.slug,
        title=template["title"],
        category=template["category"],
        priority=template["priority"],
        description=template["description"],
        site_id=str(plan.asset.site_id if plan.asset is not None else plan.site_id),
        asset_id=str(plan.asset_id) if plan.asset_id is not None else None,
        plan_id=str(plan.pk),
        plan_name=plan.name,
        due_at=due,
        window_end=due + timedelta(hours=plan.window_hours),
    )

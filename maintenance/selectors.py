"""Reading plans: one plan of the caller, a page of its plans, a plan's coming occurrences
and its past ones, and what is planned at a site or on an asset (the facilities' pages ask
through ``facilities.ports.PlannedWork``). Only ``maintenance.services`` and the scheduler
write."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from facilities.domain.fields import is_site_id
from facilities.ports import UpcomingWork
from kernel.errors import InvalidCursor

from .domain.errors import PlanNotFound
from .models import MaintenancePlan, PlanOccurrence
from .services import recurrence_of

CURSOR_SALT = "maintenance.plans.list"
#: The states an occurrence is shown in, in people's words.
PLANNED = "planned"
STATE_LABELS = {
    PLANNED: "Planned",
    PlanOccurrence.CREATED: "Order created",
    PlanOccurrence.SKIPPED: "Skipped",
    PlanOccurrence.FAILED: "Could not create the order",
    "paused": "Paused",
}


@dataclass(frozen=True)
class PlanQuery:
    site: str | None = None
    asset: str | None = None
    #: active, paused or archived (None: active and paused).
    state: str | None = None


@dataclass(frozen=True)
class PlanPage:
    items: list[MaintenancePlan]
    next_cursor: str | None


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a plan and what became of it (``planned``: nothing yet)."""

    due_at: datetime
    creates_at: datetime
    state: str
    order_id: str | None
    reason: str
    #: Who decided its fate ("scheduler", "staff:dana", "integrator:acme"); empty: none yet.
    by: str = ""

    @property
    def decided_by(self) -> str:
        """Who decided its fate, in words: "The scheduler", "dana (staff)"."""
        kind, _, name = self.by.partition(":")
        if kind == "scheduler" or not self.by:
            return "The scheduler" if self.by else ""
        return f"{name} ({kind})" if name else kind

    @property
    def state_label(self) -> str:
        label = STATE_LABELS[self.state]
        return f"{label}: {self.reason}" if self.reason else label


def plan_of(integrator: str, plan_id: str) -> MaintenancePlan:
    """The caller's plan (``integrator``: its slug); another integrator's is not found."""
    if not is_site_id(plan_id):
        raise PlanNotFound(plan_id)
    plan = (
        MaintenancePlan.objects.select_related("site", "asset", "integrator")
        .filter(pk=plan_id, integrator__slug=integrator)
        .first()
    )
    if plan is None:
        raise PlanNotFound(plan_id)
    return plan


def list_plans(
    integrator: str, query: PlanQuery, *, limit: int, cursor: str | None = None
) -> PlanPage:
    """A page of the caller's plans, by name then id; ``next_cursor`` continues it."""
    scope = hashlib.sha256(json.dumps([integrator, asdict(query)]).encode()).hexdigest()[:16]
    plans = _filtered(MaintenancePlan.objects.filter(integrator__slug=integrator), query)
    if cursor is not None:
        name, plan_id = _after(cursor, scope)
        plans = plans.filter(name__gt=name) | plans.filter(name=name, pk__gt=plan_id)
    page = list(plans.select_related("site", "asset").order_by("name", "pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = signing.dumps(
            {"n": last.name, "i": str(last.pk), "s": scope}, salt=CURSOR_SALT
        )
    return PlanPage(page, next_cursor)


def _filtered(plans: QuerySet[MaintenancePlan], query: PlanQuery) -> QuerySet[MaintenancePlan]:
    if query.site is not None:
        plans = plans.filter(site_id=query.site)
    if query.asset is not None:
        plans = plans.filter(asset_id=query.asset)
    if query.state == "archived":
        return plans.filter(archived_at__isnull=False)
    plans = plans.filter(archived_at__isnull=True)
    if query.state == "active":
        plans = plans.filter(paused_at__isnull=True)
    elif query.state == "paused":
        plans = plans.filter(paused_at__isnull=False)
    return plans


def _after(cursor: str, scope: str) -> tuple[str, str]:
    try:
        position: Any = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise InvalidCursor("The cursor was not issued by this service.") from None
    if not isinstance(position, dict) or position.get("s") != scope:
        raise InvalidCursor("The cursor belongs to a different listing.")
    return str(position["n"]), str(position["i"])


def coming(
    plan: MaintenancePlan, *, count: int = 10, now: datetime | None = None
) -> list[Occurrence]:
    """The plan's next ``count`` occurrences from now on: those whose order already exists
    (created ahead by the lead time), skipped ones, and those still planned. None while the
    plan is archived; a paused plan's say so."""
    if plan.archived_at is not None:
        return []
    now = now or timezone.now()
    start = now.replace(second=0, microsecond=0)
    dues = recurrence_of(plan).upcoming(start, count)
    if not dues:
        return []
    fates = {
        f.due_at: f for f in plan.occurrences.filter(due_at__gte=dues[0], due_at__lte=dues[-1])
    }
    lead = timedelta(days=plan.lead_days)
    shown = []
    for due in dues:
        fate = fates.get(due)
        if fate is not None:
            shown.append(_occurrence(fate, lead))
        else:
            state = "paused" if plan.paused_at is not None else PLANNED
            shown.append(Occurrence(due, due - lead, state, None, ""))
    return shown


def past(
    plan: MaintenancePlan, *, limit: int = 20, before: datetime | None = None
) -> list[Occurrence]:
    """What became of the plan's occurrences due before now (or ``before``), latest first."""
    fates = plan.occurrences.filter(due_at__lt=before or timezone.now()).order_by("-due_at")
    lead = timedelta(days=plan.lead_days)
    return [_occurrence(f, lead) for f in fates[:limit]]


def _occurrence(fate: PlanOccurrence, lead: timedelta) -> Occurrence:
    return Occurrence(
        fate.due_at, fate.due_at - lead, fate.state, fate.order_id or None, fate.reason, fate.by
    )


class PlansAtPlaces:
    """``facilities.ports.PlannedWork``: what is planned at a site or on an asset."""

    def upcoming_at_site(self, site_id: str, *, limit: int = 10) -> list[UpcomingWork]:
        return self._upcoming(MaintenancePlan.objects.filter(site_id=site_id), limit)

    def upcoming_at_asset(self, asset_id: str, *, limit: int = 10) -> list[UpcomingWork]:
        return self._upcoming(MaintenancePlan.objects.filter(asset_id=asset_id), limit)

    def active_plans_at_asset(self, asset_id: str) -> list[str]:
        plans = MaintenancePlan.objects.filter(asset_id=asset_id, archived_at__isnull=True)
        return list(plans.order_by("name").values_list("name", flat=True))

    def _upcoming(self, plans: QuerySet[MaintenancePlan], limit: int) -> list[UpcomingWork]:
        work = []
        for plan in plans.filter(archived_at__isnull=True).select_related("site", "asset")[:50]:
            for occurrence in coming(plan, count=limit):
                work.append(
                    UpcomingWork(
                        plan_id=str(plan.pk),
                        plan_name=plan.name,
                        due_at=occurrence.due_at,
                        creates_at=occurrence.creates_at,
                        state=occurrence.state_label,
                        url=plan_admin_url(str(plan.pk)),
                    )
                )
        return sorted(work, key=lambda w: w.due_at)[:limit]


def plan_admin_url(plan_id: str) -> str:
    try:
        return reverse("admin:maintenance_maintenanceplan_change", args=[plan_id])
    except NoReverseMatch:  # no staff site in this process
        return ""

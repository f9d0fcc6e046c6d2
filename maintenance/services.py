"""Writing plans: the one place the API and the admin create, change, pause, resume, archive
and restore them, and skip an occurrence. Every field goes through the rules
(``maintenance.domain``); every change bumps the version (the ETag) once and moves the plan's
next occurrence, which is what the scheduler picks plans by.

A plan's occurrences count from the minute it is made (or resumed, or its rule changed):
an occurrence due in that very minute is the plan's first, one due earlier never happens.
Writes to one plan take turns with the scheduler (its row is locked), so a skip and the
creation of the same occurrence's order cannot both happen."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from facilities.models import Asset, Site
from integrators.models import Integrator
from kernel.errors import ValidationError

from .domain.errors import OccurrenceTaken, PlanArchived, StalePlan
from .domain.fields import clean_plan
from .domain.recurrence import Recurrence, RuleProblem, checked
from .models import MaintenancePlan, PlanOccurrence
from .ports import OrderMaker

TEMPLATE_COLUMNS = {
    "title": "order_title",
    "category": "order_category",
    "priority": "order_priority",
    "description": "order_description",
}
SKIP_REASON_MAX = 500


def recurrence_of(plan: MaintenancePlan) -> Recurrence:
    return Recurrence(
        plan.recurrence, datetime.combine(plan.starts_on, plan.at), plan.site.time_zone
    )


def create_plan(
    integrator: Integrator,
    data: Mapping[str, Any],
    *,
    orders: OrderMaker,
    now: datetime | None = None,
) -> MaintenancePlan:
    """A new plan of ``integrator`` from ``data`` (the API's body)."""
    cleaned = clean_plan(data)
    now = now or timezone.now()
    site, asset = _place(integrator, cleaned["site_id"], cleaned["asset_id"])
    orders.check_template(cleaned["order"])
    plan = MaintenancePlan(
        integrator=integrator, site=site, asset=asset, created_at=now, updated_at=now
    )
    _assign(plan, cleaned)
    _check_rule(plan, now)
    _reschedule(plan, now)
    plan.save()
    return plan


def update_plan(
    plan: MaintenancePlan,
    changes: Mapping[str, Any],
    *,
    orders: OrderMaker,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> MaintenancePlan:
    """Change what ``changes`` names (``order``: the parts it names). A change of the rule,
    the start, the time or the lead time counts the occurrences again from now."""
    cleaned = clean_plan(changes, partial=True)
    now = now or timezone.now()
    with transaction.atomic():
        current = _locked(plan, expected_version)
        if current.archived_at is not None:
            raise PlanArchived(str(current.pk))
        before = _snapshot(current)
        _assign(current, cleaned)
        if "order" in cleaned:
            orders.check_template(current.template)
        if _snapshot(current) == before:
            return current
        if _timing(current) != _timing_of(before):
            _check_rule(current, now)
            _reschedule(current, now)
        return _bumped(current, now)


def pause_plan(plan: MaintenancePlan, *, expected_version: int | None = None) -> MaintenancePlan:
    """Stop creating orders until resumed; occurrences due meanwhile never happen."""
    return _stamp(plan, expected_version, paused_at=lambda p, now: p.paused_at or now)


def resume_plan(plan: MaintenancePlan, *, expected_version: int | None = None) -> MaintenancePlan:
    def resumed(p: MaintenancePlan, now: datetime) -> None:
        if p.paused_at is not None:
            _reschedule(p, now)
        return None

    return _stamp(plan, expected_version, paused_at=resumed)


def archive_plan(plan: MaintenancePlan, *, expected_version: int | None = None) -> MaintenancePlan:
    """End the plan for good (restorable): it creates no more orders; its orders stay."""
    return _stamp(plan, expected_version, archived_at=lambda p, now: p.archived_at or now)


def restore_plan(plan: MaintenancePlan, *, expected_version: int | None = None) -> MaintenancePlan:
    def restored(p: MaintenancePlan, now: datetime) -> None:
        if p.archived_at is not None:
            if p.site.archived:
                raise ValidationError({"plan": ["Its site is archived: restore the site first."]})
            if p.asset is not None and p.asset.retired:
                raise ValidationError({"plan": ["Its asset is retired: reinstate it first."]})
            _reschedule(p, now)
        return None

    return _stamp(plan, expected_version, archived_at=restored)


def skip_occurrence(
    plan: MaintenancePlan, due_at: datetime, *, reason: str, by: str
) -> PlanOccurrence:
    """Skip one coming occurrence (``due_at``: exactly one of the plan's), with a reason
    people read. Refused once its order exists: cancel the order instead."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationError({"reason": ["Say why the occurrence is skipped."]})
    if len(text) > SKIP_REASON_MAX:
        raise ValidationError({"reason": [f"Use at most {SKIP_REASON_MAX} characters."]})
    with transaction.atomic():
        current = _locked(plan, None)
        _require_occurrence(current, due_at)
        fate = current.occurrences.filter(due_at=due_at).first()
        if fate is not None:
            raise OccurrenceTaken(_taken(fate))
        if current.next_due_at is None or due_at < current.next_due_at:
            raise OccurrenceTaken("That occurrence has passed: it can no longer be skipped.")
        try:
            with transaction.atomic():
                return PlanOccurrence.objects.create(
                    plan=current,
                    due_at=due_at,
                    state=PlanOccurrence.SKIPPED,
                    reason=text,
                    by=by,
                    recorded_at=timezone.now(),
                )
        except IntegrityError:
            raise OccurrenceTaken("That occurrence was just handled: read the plan again.")


def unskip_occurrence(plan: MaintenancePlan, due_at: datetime) -> None:
    """Take back a skip while the occurrence is still to come."""
    with transaction.atomic():
        current = _locked(plan, None)
        fate = current.occurrences.filter(due_at=due_at).first()
        if fate is None or fate.state != PlanOccurrence.SKIPPED:
            raise ValidationError({"due_at": ["That occurrence is not skipped."]})
        if current.next_due_at is None or due_at < current.next_due_at:
            raise OccurrenceTaken("That occurrence has passed: its skip stays.")
        fate.delete()


# -- the steps they share -----------------------------------------------------------------


def _place(integrator: Integrator, site_id: str | None, asset_id: str | None):
    """The plan's site and asset among the integrator's, both in use."""
    asset = None
    if asset_id is not None:
        asset = (
            Asset.objects.select_related("site").filter(pk=asset_id, integrator=integrator).first()
        )
        if asset is None:
            raise ValidationError({"asset_id": ["No asset of yours has this id."]})
        if asset.retired:
            raise ValidationError({"asset_id": ["The asset is retired: reinstate it first."]})
    site = asset.site if asset is not None else None
    if site_id is not None:
        site = Site.objects.filter(pk=site_id, integrator=integrator).first()
        if site is None:
            raise ValidationError({"site_id": ["No site of yours has this id."]})
        if asset is not None and asset.site_id != site.pk:
            raise ValidationError(
                {"asset_id": [f"The asset is at {asset.site.code}, not at {site.code}."]}
            )
    assert site is not None
    if site.archived:
        raise ValidationError({"site_id": [f"The site {site.code} is archived."]})
    return site, asset


def _assign(plan: MaintenancePlan, cleaned: Mapping[str, Any]) -> None:
    for name in ("name", "recurrence", "starts_on", "at", "lead_days", "window_hours"):
        if name in cleaned:
            setattr(plan, name, cleaned[name])
    for part, value in cleaned.get("order", {}).items():
        setattr(plan, TEMPLATE_COLUMNS[part], value)


def _check_rule(plan: MaintenancePlan, now: datetime) -> None:
    try:
        checked(
            plan.recurrence,
            datetime.combine(plan.starts_on, plan.at),
            plan.site.time_zone,
            now=_minute(now),
        )
    except RuleProblem as exc:
        raise ValidationError({"recurrence": [str(exc)]}) from None


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _reschedule(plan: MaintenancePlan, now: datetime) -> None:
    """The next occurrence from this minute on. Occurrences already handled (an order
    created ahead by the lead time, a skip) keep their fate: the scheduler passes them."""
    due = recurrence_of(plan).after(_minute(now), inclusive=True)
    plan.next_due_at = due
    plan.next_create_at = due - timedelta(days=plan.lead_days) if due is not None else None


def _require_occurrence(plan: MaintenancePlan, due_at: datetime) -> None:
    if recurrence_of(plan).after(due_at, inclusive=True) != due_at:
        raise ValidationError({"due_at": ["The plan has no occurrence at that time."]})


def _taken(fate: PlanOccurrence) -> str:
    if fate.state == PlanOccurrence.CREATED:
        return "Its order was already created: cancel the order instead."
    if fate.state == PlanOccurrence.SKIPPED:
        return "That occurrence is already skipped."
    return "That occurrence already failed; it is not to come."


def _locked(plan: MaintenancePlan, expected_version: int | None) -> MaintenancePlan:
    current = (
        MaintenancePlan.objects.select_for_update(of=("self",))
        .select_related("site", "asset", "integrator")
        .get(pk=plan.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StalePlan(
            plan_id=str(current.pk),
            expected_version=expected_version,
            current_version=current.version,
        )
    return current


def _snapshot(plan: MaintenancePlan) -> tuple[Any, ...]:
    return (plan.name, *_timing(plan), tuple(plan.template.items()))


def _timing(plan: MaintenancePlan) -> tuple[Any, ...]:
    return (plan.recurrence, plan.starts_on, plan.at, plan.lead_days, plan.window_hours)


def _timing_of(snapshot: tuple[Any, ...]) -> tuple[Any, ...]:
    return snapshot[1:6]


def _bumped(plan: MaintenancePlan, now: datetime) -> MaintenancePlan:
    plan.version += 1
    plan.updated_at = now
    plan.save()
    return plan


def _stamp(
    plan: MaintenancePlan,
    expected_version: int | None,
    **stamps: Callable[[MaintenancePlan, datetime], Any],
) -> MaintenancePlan:
    """Set each named timestamp to what its function says (``None`` to clear it); a stamp
    already as asked is no change."""
    now = timezone.now()
    with transaction.atomic():
        current = _locked(plan, expected_version)
        changed = False
        for name, stamp in stamps.items():
            value = stamp(current, now)
            if value != getattr(current, name):
                setattr(current, name, value)
                changed = True
        if not changed:
            return current
        return _bumped(current, now)

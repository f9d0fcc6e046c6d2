"""Writing sites: the one place the API, the admin and the import (``site_import``) change
them. Every field goes through the rules (``facilities.domain``) and every change bumps the
site's version (its ETag) once; a change that changes nothing is no change.

Writes of one integrator's sites take turns (its row is locked for the transaction), so two
of them can never build a loop, hang a site under one being archived, or take one code
twice. Sites are written rarely, so the wait is nothing.

Archiving asks a :class:`SiteUsage` what else needs the site: nothing yet in this step
(:class:`NothingUsesSites`); the next one hands in the orders' (no archiving a site that
open orders point at), through ``portal.container.site_usage``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from facilities.domain.assets import ACTIVE_STATUSES
from facilities.domain.errors import (
    DuplicateCode,
    ParentArchived,
    SiteArchived,
    SiteInUse,
    StaleSite,
)
from facilities.domain.fields import clean_site
from facilities.domain.kinds import MAX_HOPS, children_problem, cycle_problem, parent_problem
from facilities.models import Site
from integrators.models import Integrator
from kernel.errors import ValidationError

#: Active sites named when they keep a site from being archived (the rest are counted).
BLOCKERS_NAMED = 5


class SiteUsage(Protocol):
    """What else needs a site active: asked before it is archived."""

    def archive_blockers(self, site: Site) -> list[str]:
        """Why ``site`` cannot be archived now, in words for the caller; empty: it can."""
        ...


class NothingUsesSites:
    """This step's usage: no order points at a site yet, so nothing else blocks archiving."""

    def archive_blockers(self, site: Site) -> list[str]:
        return []


def create_site(integrator: Integrator, data: Mapping[str, Any]) -> Site:
    """A new site of ``integrator`` from ``data`` (the API's body: code, name, kind,
    parent or parent_code, address, time_zone, access_hours, contacts)."""
    cleaned = clean_site(data)
    with transaction.atomic():
        take_turn(integrator.pk)
        parent = _parent(integrator.pk, cleaned)
        _check_placement(None, cleaned["kind"], parent, _parent_field(cleaned))
        _check_code_free(integrator.pk, cleaned["code"], None)
        now = timezone.now()
        site = Site(integrator=integrator, parent=parent, created_at=now, updated_at=now)
        _assign(site, cleaned)
        return _saved(site)


def update_site(
    site: Site, changes: Mapping[str, Any], *, expected_version: int | None = None
) -> Site:
    """Change the fields ``changes`` names (``address``: the parts it names; ``parent`` or
    ``parent_code`` null: to the top). ``expected_version``: only if the site is still at
    that version (:class:`StaleSite` otherwise). Returns the site as stored now."""
    cleaned = clean_site(changes, partial=True)
    with transaction.atomic():
        current = _locked(site, expected_version)
        if current.archived:
            raise SiteArchived(str(current.pk))
        before = _snapshot(current)
        kind = cleaned.get("kind", current.kind)
        moved = "parent" in cleaned or "parent_code" in cleaned
        parent = _parent(current.integrator_id, cleaned) if moved else current.parent
        if moved or kind != current.kind:
            _check_placement(current, kind, parent, _parent_field(cleaned))
        if cleaned.get("code", current.code) != current.code:
            _check_code_free(current.integrator_id, cleaned["code"], current.pk)
        current.parent = parent
        _assign(current, cleaned)
        if _snapshot(current) == before:
            return current
        current.version += 1
        current.updated_at = timezone.now()
        return _saved(current)


def archive_site(site: Site, *, usage: SiteUsage, expected_version: int | None = None) -> Site:
    """Archive the site (already archived: as it is). Refused (:class:`SiteInUse`) while
    active sites are under it or assets not retired are at it, or while ``usage`` says
    something else needs it."""
    with transaction.atomic():
        current = _locked(site, expected_version)
        if current.archived:
            return current
        reasons = (
            _active_children(current) + _active_assets(current) + usage.archive_blockers(current)
        )
        if reasons:
            raise SiteInUse(str(current.pk), reasons)
        return _stamped(current, archived_at=timezone.now())


def restore_site(site: Site, *, expected_version: int | None = None) -> Site:
    """Make an archived site active again (active already: as it is); its parent must be."""
    with transaction.atomic():
        current = _locked(site, expected_version)
        if not current.archived:
            return current
        if current.parent is not None and current.parent.archived:
            raise ParentArchived(str(current.pk), current.parent.code)
        return _stamped(current, archived_at=None)


def check_create(integrator: Integrator, data: Mapping[str, Any]) -> None:
    """Raise what :func:`create_site` would raise, without writing (the admin's form shows it
    beside the fields before it saves)."""
    dry_run(lambda: create_site(integrator, data))


def check_change(
    site: Site, changes: Mapping[str, Any], *, expected_version: int | None = None
) -> None:
    """Raise what :func:`update_site` would raise, without writing."""
    dry_run(lambda: update_site(site, changes, expected_version=expected_version))


# -- the steps they share -----------------------------------------------------------------


class _DryRun(Exception):
    """Rolls a checked write back."""


def dry_run(write: Callable[[], Any]) -> None:
    """Run ``write`` and roll it back: raise what it would raise, store nothing (the admin's
    forms show a refusal beside its field before they save)."""
    try:
        with transaction.atomic():
            write()
            raise _DryRun
    except _DryRun:
        pass


def take_turn(integrator_id: int) -> None:
    """Lock the integrator's row until the transaction ends: its site and asset writes take
    turns (an asset is never placed at a site being archived)."""
    list(Integrator.objects.select_for_update().filter(pk=integrator_id).values("pk"))


def _locked(site: Site, expected_version: int | None) -> Site:
    take_turn(site.integrator_id)
    current = Site.objects.select_related("parent", "integrator").get(pk=site.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleSite(
            site_id=str(current.pk),
            expected_version=expected_version,
            current_version=current.version,
        )
    return current


def _parent_field(cleaned: Mapping[str, Any]) -> str:
    return "parent_code" if cleaned.get("parent_code") is not None else "parent"


def _parent(integrator_id: int, cleaned: Mapping[str, Any]) -> Site | None:
    """The parent the fields name (by id or by code), among the integrator's sites."""
    sites = Site.objects.filter(integrator_id=integrator_id)
    if cleaned.get("parent") is not None:
        parent = sites.filter(pk=cleaned["parent"]).first()
        if parent is None:
            raise ValidationError({"parent": ["No site of yours has this id."]})
        return parent
    if cleaned.get("parent_code") is not None:
        parent = sites.filter(code=cleaned["parent_code"]).first()
        if parent is None:
            raise ValidationError(
                {"parent_code": [f"No site of yours has the code {cleaned['parent_code']}."]}
            )
        return parent
    return None


def _check_placement(site: Site | None, kind: str, parent: Site | None, field: str) -> None:
    """The site (``None``: a new one) as a ``kind`` under ``parent``: no loop, an active
    parent of a kind it may hang under, and the sites under it still fitting."""
    problems: dict[str, list[str]] = {}
    if parent is not None:
        problem = cycle_problem(str(site.pk), _chain(parent)) if site is not None else None
        if problem is None and parent.archived:
            problem = f"The parent {parent.code} is archived: restore it first."
        if problem is None:
            problem = parent_problem(kind, parent.kind)
        if problem is not None:
            problems[field] = [problem]
    if site is not None and kind != site.kind:
        child_kinds = site.children.values_list("kind", flat=True)
        if (problem := children_problem(kind, child_kinds)) is not None:
            problems["kind"] = [problem]
    if problems:
        raise ValidationError(problems)


def _chain(parent: Site) -> Iterator[str]:
    """The parent's id, then its parent's, up to the top (a few hops: kinds are ranked)."""
    current: Site | None = parent
    for _ in range(MAX_HOPS + 2):
        if current is None:
            return
        yield str(current.pk)
        current = current.parent


def _check_code_free(integrator_id: int, code: str, site_id: Any) -> None:
    taken = Site.objects.filter(integrator_id=integrator_id, code=code).exclude(pk=site_id)
    other = taken.values_list("pk", flat=True).first()
    if other is not None:
        raise DuplicateCode(code=code, site_id=str(other))


def _assign(site: Site, cleaned: Mapping[str, Any]) -> None:
    for name in ("code", "name", "kind", "time_zone", "access_hours", "contacts"):
        if name in cleaned:
            setattr(site, name, cleaned[name])
    if "address" in cleaned:
        site.address = cleaned["address"]


def _snapshot(site: Site) -> tuple[Any, ...]:
    return (
        site.code,
        site.name,
        site.kind,
        site.parent_id,
        tuple(site.address.items()),
        site.time_zone,
        site.access_hours,
        site.contacts,
    )


def _saved(site: Site) -> Site:
    try:
        with transaction.atomic():
            site.save()
    except IntegrityError:  # the code was taken by a write that did not take turns
        other = Site.objects.filter(integrator_id=site.integrator_id, code=site.code).first()
        if other is None:
            raise
        raise DuplicateCode(code=site.code, site_id=str(other.pk)) from None
    return site


def _stamped(site: Site, *, archived_at: Any) -> Site:
    site.archived_at = archived_at
    site.version += 1
    site.updated_at = timezone.now()
    site.save(update_fields=["archived_at", "version", "updated_at"])
    return site


def _active_children(site: Site) -> list[str]:
    active = list(
        site.children.filter(archived_at__isnull=True)
        .order_by("code")
        .values_list("code", flat=True)[: BLOCKERS_NAMED + 1]
    )
    if not active:
        return []
    total = site.children.filter(archived_at__isnull=True).count()
    named = ", ".join(active[:BLOCKERS_NAMED]) + (", …" if total > BLOCKERS_NAMED else "")
    return [f"{total} active site(s) are under it ({named}): archive or move them first."]


def _active_assets(site: Site) -> list[str]:
    """Equipment still at the site (in service or down) keeps it active: its orders and plans
    would point at an archived place."""
    active = site.assets.filter(status__in=ACTIVE_STATUSES)
    codes = list(active.order_by("code").values_list("code", flat=True)[: BLOCKERS_NAMED + 1])
    if not codes:
        return []
    total = active.count() if len(codes) > BLOCKERS_NAMED else len(codes)
    named = ", ".join(codes[:BLOCKERS_NAMED]) + (", …" if total > BLOCKERS_NAMED else "")
    if total == 1:
        return [f"1 asset is still at it ({named}): retire or move it first."]
    return [f"{total} assets are still at it ({named}): retire or move them first."]

"""Writing assets: the one place the API and the admin change them. Every field goes through
the rules (``facilities.domain.assets``) and every change moves the asset's version (its ETag)
on once; a change that changes nothing is no change.

An asset's writes take the integrator's turn, as its sites' do (``take_turn``), so an asset
is never placed at a site being archived, and two writes never take one code.

Retiring asks an :class:`AssetUsage` what still needs the asset: the adapters hand in
:class:`OrdersAndPlans` over the orders at it and the plans on it (``facilities.ports``, through
``portal.container``), so these services import neither the container nor those apps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone

from facilities.domain.assets import RETIRED, clean_asset
from facilities.domain.errors import (
    AssetInUse,
    AssetRetired,
    AssetSiteArchived,
    DuplicateAssetCode,
    StaleAsset,
)
from facilities.models import Asset, Site
from facilities.ports import PlaceOrders, PlannedWork
from facilities.services import dry_run, take_turn
from integrators.models import Integrator
from kernel.errors import ValidationError

#: Orders or plans named when they keep an asset from being retired (the rest are counted).
BLOCKERS_NAMED = 5
#: What an asset's change compares to tell whether anything changed.
COMPARED = (
    "code",
    "name",
    "site_id",
    "category",
    "make",
    "model",
    "serial_number",
    "installed_on",
    "status",
    "notes",
)
#: The fields the rules clean that are stored as they are.
_STORED = ("code", "name", "category", "make", "model", "serial_number", "installed_on", "notes")


class AssetUsage(Protocol):
    """What still needs an asset in service: asked before it is retired."""

    def retire_blockers(self, asset: Asset) -> list[str]:
        """Why ``asset`` cannot be retired now, in words for the caller; empty: it can."""
        ...


class NothingUsesAssets:
    """No orders and no plans anywhere (tests, and the steps before orders point at assets)."""

    def retire_blockers(self, asset: Asset) -> list[str]:
        return []


class OrdersAndPlans:
    """An asset is needed while open orders are at it or active maintenance plans are on it:
    the adapters build this from ``portal.container.place_orders()`` and ``planned_work()``."""

    def __init__(self, orders: PlaceOrders, plans: PlannedWork):
        self.orders = orders
        self.plans = plans

    def retire_blockers(self, asset: Asset) -> list[str]:
        reasons = []
        at = self.orders.at_asset(str(asset.pk), limit=BLOCKERS_NAMED)
        if at.open:
            more = at.more_open or len(at.open) > BLOCKERS_NAMED
            titles = [line.title for line in at.open[:BLOCKERS_NAMED]]
            # Past the handful read, how many more is not known: "more than".
            count = f"More than {len(titles)}" if more else str(len(titles))
            reasons.append(
                _said(count, titles, more, "open order", "at it") + ": complete or cancel "
                f"{_them(count)} first."
            )
        plans = self.plans.active_plans_at_asset(str(asset.pk))
        if plans:
            count = str(len(plans))
            named = plans[:BLOCKERS_NAMED]
            reasons.append(
                _said(count, named, len(plans) > BLOCKERS_NAMED, "active maintenance plan", "on it")
                + f": pause or end {_them(count)} first."
            )
        return reasons


def _said(count: str, names: list[str], more: bool, what: str, where: str) -> str:
    """ "1 open order is at it (Fix the belt)", "7 active maintenance plans are on it (…, …)"."""
    listed = ", ".join(names) + (", …" if more else "")
    if count == "1":
        return f"1 {what} is {where} ({listed})"
    return f"{count} {what}s are {where} ({listed})"


def _them(count: str) -> str:
    return "it" if count == "1" else "them"


def create_asset(integrator: Integrator, data: Mapping[str, Any]) -> Asset:
    """A new asset of ``integrator`` from ``data`` (the API's body: code, name, site or
    site_code, category, make, model, serial_number, installed_on, status, notes). A new asset
    may be retired already (equipment recorded after it left service): nothing needs it yet."""
    cleaned = clean_asset(data)
    with transaction.atomic():
        take_turn(integrator.pk)
        site = _site(integrator.pk, cleaned)
        _check_code_free(integrator.pk, cleaned["code"], None)
        now = timezone.now()
        asset = Asset(
            integrator=integrator,
            site=site,
            status=cleaned["status"],
            created_at=now,
            updated_at=now,
            status_changed_at=now,
        )
        _assign(asset, cleaned)
        return _saved(asset)


def update_asset(
    asset: Asset,
    changes: Mapping[str, Any],
    *,
    usage: AssetUsage,
    expected_version: int | None = None,
) -> Asset:
    """Change the fields ``changes`` names: ``site`` or ``site_code`` moves it (to an active
    site of the integrator), ``status`` marks it down or in service, or retires it (refused,
    :class:`AssetInUse`, while ``usage`` says something needs it). A retired asset is kept as
    it was (:class:`AssetRetired`): :func:`reinstate_asset` first. ``expected_version``: only
    if the asset is still at that version (:class:`StaleAsset` otherwise)."""
    cleaned = clean_asset(changes, partial=True)
    with transaction.atomic():
        current = _locked(asset, expected_version)
        if current.retired:
            raise AssetRetired(str(current.pk))
        before = _snapshot(current)
        if "site" in cleaned or "site_code" in cleaned:
            current.site = _site(current.integrator_id, cleaned)
        if cleaned.get("code", current.code) != current.code:
            _check_code_free(current.integrator_id, cleaned["code"], current.pk)
        _assign(current, cleaned)
        status = cleaned.get("status", current.status)
        if status != current.status:
            if status == RETIRED:
                _check_unused(current, usage)
            current.status = status
            current.status_changed_at = timezone.now()
        if _snapshot(current) == before:
            return current
        return _saved(_bumped(current))


def set_asset_status(
    asset: Asset, status: str, *, usage: AssetUsage, expected_version: int | None = None
) -> Asset:
    """Mark the asset in service or down, or retire it (the admin's actions; the API's PATCH
    of ``status`` does the same): the status it has already changes nothing."""
    return update_asset(asset, {"status": status}, usage=usage, expected_version=expected_version)


def retire_asset(asset: Asset, *, usage: AssetUsage, expected_version: int | None = None) -> Asset:
    """Retire the asset (already retired: as it is). Refused (:class:`AssetInUse`) while
    ``usage`` says open orders or active plans still need it."""
    with transaction.atomic():
        current = _locked(asset, expected_version)
        if current.retired:
            return current
        return set_asset_status(current, RETIRED, usage=usage)


def reinstate_asset(asset: Asset, *, expected_version: int | None = None) -> Asset:
    """Put a retired asset back in service (not retired: as it is); its site must be active
    (:class:`AssetSiteArchived` otherwise: restore the site first)."""
    with transaction.atomic():
        current = _locked(asset, expected_version)
        if not current.retired:
            return current
        if current.site.archived:
            raise AssetSiteArchived(str(current.pk), current.site.code)
        current.status = Asset.IN_SERVICE
        current.status_changed_at = timezone.now()
        return _saved(_bumped(current))


def check_create(integrator: Integrator, data: Mapping[str, Any]) -> None:
    """Raise what :func:`create_asset` would raise, without writing (the admin's form shows it
    beside the fields before it saves)."""
    dry_run(lambda: create_asset(integrator, data))


def check_change(
    asset: Asset,
    changes: Mapping[str, Any],
    *,
    usage: AssetUsage,
    expected_version: int | None = None,
) -> None:
    """Raise what :func:`update_asset` would raise, without writing."""
    dry_run(lambda: update_asset(asset, changes, usage=usage, expected_version=expected_version))


# -- the steps they share -----------------------------------------------------------------


def _locked(asset: Asset, expected_version: int | None) -> Asset:
    take_turn(asset.integrator_id)
    current = Asset.objects.select_related("site", "integrator").get(pk=asset.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleAsset(
            asset_id=str(current.pk),
            expected_version=expected_version,
            current_version=current.version,
        )
    return current


def _site(integrator_id: int, cleaned: Mapping[str, Any]) -> Site:
    """The site the fields name (by id or by code): one of the integrator's, active, a place
    equipment stands (not a region, which only groups sites)."""
    sites = Site.objects.filter(integrator_id=integrator_id)
    if cleaned.get("site") is not None:
        field, site = "site", sites.filter(pk=cleaned["site"]).first()
        missing = "No site of yours has this id."
    else:
        field, site = "site_code", sites.filter(code=cleaned["site_code"]).first()
        missing = f"No site of yours has the code {cleaned['site_code']}."
    if site is None:
        raise ValidationError({field: [missing]})
    if site.archived:
        raise ValidationError(
            {field: [f"The site {site.code} is archived: restore it first, or choose another."]}
        )
    if site.kind == "region":
        raise ValidationError(
            {
                field: [
                    f"{site.code} is a region, which groups sites: put the asset at a site, "
                    "building or floor."
                ]
            }
        )
    return site


def _check_code_free(integrator_id: int, code: str, asset_id: Any) -> None:
    taken = Asset.objects.filter(integrator_id=integrator_id, code=code).exclude(pk=asset_id)
    other = taken.values_list("pk", flat=True).first()
    if other is not None:
        raise DuplicateAssetCode(code=code, asset_id=str(other))


def _check_unused(asset: Asset, usage: AssetUsage) -> None:
    reasons = usage.retire_blockers(asset)
    if reasons:
        raise AssetInUse(str(asset.pk), reasons)


def _assign(asset: Asset, cleaned: Mapping[str, Any]) -> None:
    for name in _STORED:
        if name in cleaned:
            setattr(asset, name, cleaned[name])


def _snapshot(asset: Asset) -> tuple[Any, ...]:
    return tuple(getattr(asset, name) for name in COMPARED)


def _bumped(asset: Asset) -> Asset:
    asset.version += 1
    asset.updated_at = timezone.now()
    return asset


def _saved(asset: Asset) -> Asset:
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError:  # the code was taken by a write that did not take turns
        other = Asset.objects.filter(integrator_id=asset.integrator_id, code=asset.code).first()
        if other is None:
            raise
        raise DuplicateAssetCode(code=asset.code, asset_id=str(other.pk)) from None
    return asset

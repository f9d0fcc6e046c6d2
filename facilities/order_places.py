"""What a new work order asks of the places it points at: whether the site and the asset an
integrator names are its own and in use, and what the order keeps of them (id, code, name).

The orders know no facilities and facilities know no orders (``.importlinter``): these are
plain facilities values, which ``portal.container`` adapts into the orders' port
(``orders.services.ports.PlaceDirectory``). Read once, when the order is created: the order
keeps a copy, so reading it never joins these tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from facilities.domain.fields import is_site_id
from facilities.domain.kinds import MAX_HOPS
from facilities.models import Asset, Site
from kernel.errors import ValidationError

NO_SITE = "No site of yours has this id."
NO_ASSET = "No asset of yours has this id."


@dataclass(frozen=True)
class Place:
    """A site or an asset as an order keeps it."""

    id: str
    code: str
    name: str


def places_for_order(
    integrator: str, *, site_id: str | None, asset_id: str | None
) -> tuple[Place | None, Place | None]:
    """The site and the asset an order of ``integrator`` (its slug) is at.

    Each must be the integrator's (else "No site of yours has this id."), the site active and
    the asset not retired. An asset alone puts the order at the asset's site (which must be
    active too); with a site, the asset must be at that site or at a site under it. Every
    refusal at once, keyed ``site_id`` / ``asset_id`` (:class:`ValidationError`)."""
    errors: dict[str, list[str]] = {}
    site = _site(integrator, site_id) if site_id is not None else None
    if site_id is not None:
        if site is None:
            errors["site_id"] = [NO_SITE]
        elif site.archived:
            errors["site_id"] = [
                f"The site {site.code} is archived: restore it, or choose an active site."
            ]
    asset = _asset(integrator, asset_id) if asset_id is not None else None
    if asset_id is not None:
        problem = _asset_problem(asset, site if "site_id" not in errors else None, site_id)
        if problem is not None:
            errors["asset_id"] = [problem]
    if errors:
        raise ValidationError(errors)
    if site is None and asset is not None:
        site = asset.site
    return _place(site), _place(asset)


def site_place(site_id: str) -> Place | None:
    """Any integrator's site by id (for staff pages that name it), if there is one."""
    return _place(_site(None, site_id))


def asset_place(asset_id: str) -> Place | None:
    """Any integrator's asset by id (for staff pages that name it), if there is one."""
    return _place(_asset(None, asset_id))


def _asset_problem(asset: Asset | None, site: Site | None, site_id: str | None) -> str | None:
    """Why the order cannot be on ``asset`` (at ``site``, if one was named and is fine)."""
    if asset is None:
        return NO_ASSET
    if asset.retired:
        return f"The asset {asset.code} is retired: reinstate it, or choose an asset in use."
    at = asset.site
    if site_id is None and at.archived:
        return (
            f"The asset {asset.code} is at the site {at.code}, which is archived: restore the "
            "site, or move the asset."
        )
    if site is not None and not _within(at, site):
        return (
            f"The asset {asset.code} is at the site {at.code} ({at.name}), not at {site.code} "
            "or a site under it."
        )
    return None


def _within(place: Site, site: Site) -> bool:
    """Whether ``place`` is ``site`` or under it (a few hops: kinds are ranked)."""
    current: Site | None = place
    for _ in range(MAX_HOPS):
        if current is None:
            return False
        if current.pk == site.pk:
            return True
        current = current.parent
    return False


def _site(integrator: str | None, site_id: str) -> Site | None:
    if not isinstance(site_id, str) or not is_site_id(site_id):
        return None
    sites = Site.objects.all()
    if integrator is not None:
        sites = sites.filter(integrator__slug=integrator)
    return sites.filter(pk=site_id).first()


def _asset(integrator: str | None, asset_id: str) -> Asset | None:
    if not isinstance(asset_id, str) or not is_site_id(asset_id):  # the same UUID shape
        return None
    assets = Asset.objects.select_related("site__parent__parent__parent")
    if integrator is not None:
        assets = assets.filter(integrator__slug=integrator)
    return assets.filter(pk=asset_id).first()


def _place(found: Site | Asset | None) -> Place | None:
    if found is None:
        return None
    return Place(id=str(found.pk), code=found.code, name=found.name)

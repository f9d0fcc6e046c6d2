"""Reading assets: one asset of the caller, a page of its assets by code, and the equipment at
a site for its staff page. The API and the admin read through here; only
``facilities.asset_services`` writes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from facilities.domain.assets import ACTIVE_STATUSES
from facilities.domain.errors import AssetNotFound
from facilities.domain.fields import is_site_id
from facilities.models import Asset, Site
from facilities.selectors import code_after, code_cursor, listing_scope

CURSOR_SALT = "facilities.assets.list"


@dataclass(frozen=True)
class AssetQuery:
    """The list's filters: each one narrows it (``site``: the assets at that site, by id;
    ``site_code``: by its code; ``category``: exactly, any case; ``q``: the name, the code or
    the serial number starts with it, any case). Without ``status``, the assets in service and
    down; retired ones are listed only with ``status="retired"``."""

    site: str | None = None
    site_code: str | None = None
    status: str | None = None
    category: str | None = None
    code: str | None = None
    q: str | None = None


@dataclass(frozen=True)
class AssetPage:
    items: list[Asset]
    next_cursor: str | None


@dataclass(frozen=True)
class AssetsAt:
    """The equipment at a site, for its page: the first ones by code, and how many in all."""

    items: list[Asset]
    total: int


def asset_of(integrator: str, asset_id: str) -> Asset:
    """The caller's asset (``integrator``: its slug), with its site; another integrator's is
    not found."""
    if not is_site_id(asset_id):  # the same shape: a UUID
        raise AssetNotFound(asset_id)
    try:
        return Asset.objects.select_related("site").get(pk=asset_id, integrator__slug=integrator)
    except Asset.DoesNotExist:
        raise AssetNotFound(asset_id) from None


def list_assets(
    integrator: str, query: AssetQuery, *, limit: int, cursor: str | None = None
) -> AssetPage:
    """A page of the caller's assets in code order; ``next_cursor`` continues this very
    listing (a cursor of another integrator or other filters is an ``InvalidCursor``)."""
    scope = listing_scope(integrator, query)
    assets = _filtered(Asset.objects.filter(integrator__slug=integrator), query)
    if cursor is not None:
        assets = assets.filter(code__gt=code_after(cursor, scope, salt=CURSOR_SALT))
    page = list(assets.select_related("site").order_by("code")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    next_cursor = code_cursor(page[-1].code, scope, salt=CURSOR_SALT) if more else None
    return AssetPage(page, next_cursor)


def assets_at(site: Site, *, limit: int = 20) -> AssetsAt:
    """The site's equipment that is not retired, by code (its staff page lists it)."""
    at = Asset.objects.filter(site=site, status__in=ACTIVE_STATUSES)
    items = list(at.order_by("code")[:limit])
    total = len(items) if len(items) < limit else at.count()
    return AssetsAt(items, total)


def _filtered(assets: QuerySet[Asset], query: AssetQuery) -> QuerySet[Asset]:
    if query.status is None:
        assets = assets.filter(status__in=ACTIVE_STATUSES)
    else:
        assets = assets.filter(status=query.status)
    if query.site is not None:
        assets = assets.filter(site_id=query.site)
    if query.site_code is not None:
        assets = assets.filter(site__code=query.site_code)
    if query.category is not None:
        assets = assets.filter(category__iexact=query.category)
    if query.code is not None:
        assets = assets.filter(code=query.code)
    if query.q:
        assets = assets.filter(
            Q(name__istartswith=query.q)
            | Q(code__istartswith=query.q)
            | Q(serial_number__istartswith=query.q)
        )
    return assets

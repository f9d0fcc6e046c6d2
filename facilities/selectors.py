"""Reading sites: one site of the caller, a page of its sites by code, and every site of an
integrator as the import compares them. The API, the admin and the import read through here;
only ``facilities.services`` and ``facilities.site_import`` write."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet

from facilities.domain.errors import SiteNotFound
from facilities.domain.fields import is_site_id
from facilities.domain.import_plan import StoredSite
from facilities.models import ADDRESS_COLUMNS, Site
from integrators.models import Integrator
from kernel.errors import InvalidCursor, NotFound

CURSOR_SALT = "facilities.sites.list"


@dataclass(frozen=True)
class SiteQuery:
    """The list's filters: each one narrows it (``q``: the name or the code starts with it,
    any case); archived sites are listed only when ``archived`` is true (and then alone)."""

    kind: str | None = None
    parent: str | None = None
    code: str | None = None
    q: str | None = None
    archived: bool = False


@dataclass(frozen=True)
class SitePage:
    items: list[Site]
    next_cursor: str | None


def integrator_by_slug(slug: str) -> Integrator:
    try:
        return Integrator.objects.get(slug=slug)
    except Integrator.DoesNotExist:
        raise NotFound(f"No integrator {slug!r}.") from None


def site_of(integrator: str, site_id: str) -> Site:
    """The caller's site (``integrator``: its slug); another integrator's is not found."""
    if not is_site_id(site_id):
        raise SiteNotFound(site_id)
    try:
        return Site.objects.select_related("parent").get(pk=site_id, integrator__slug=integrator)
    except Site.DoesNotExist:
        raise SiteNotFound(site_id) from None


def list_sites(
    integrator: str, query: SiteQuery, *, limit: int, cursor: str | None = None
) -> SitePage:
    """A page of the caller's sites in code order; ``next_cursor`` continues this very
    listing (a cursor of another integrator or other filters is an :class:`InvalidCursor`)."""
    scope = listing_scope(integrator, query)
    sites = _filtered(Site.objects.filter(integrator__slug=integrator), query)
    if cursor is not None:
        sites = sites.filter(code__gt=code_after(cursor, scope, salt=CURSOR_SALT))
    page = list(sites.select_related("parent").order_by("code")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return SitePage(page, code_cursor(page[-1].code, scope, salt=CURSOR_SALT) if more else None)


def _filtered(sites: QuerySet[Site], query: SiteQuery) -> QuerySet[Site]:
    sites = sites.filter(archived_at__isnull=not query.archived)
    if query.kind is not None:
        sites = sites.filter(kind=query.kind)
    if query.parent is not None:
        sites = sites.filter(parent_id=query.parent)
    if query.code is not None:
        sites = sites.filter(code=query.code)
    if query.q:
        sites = sites.filter(Q(name__istartswith=query.q) | Q(code__istartswith=query.q))
    return sites


# -- lists by code, in pages: the sites' and the assets' ---------------------------------------


def listing_scope(integrator: str, query: Any) -> str:
    """What a cursor continues: this integrator's listing with these filters (a dataclass)."""
    listing = json.dumps([integrator, asdict(query)], sort_keys=True)
    return hashlib.sha256(listing.encode()).hexdigest()[:16]


def code_cursor(after_code: str, scope: str, *, salt: str) -> str:
    """A signed cursor: the next page starts after ``after_code``, in the ``scope`` listing."""
    return signing.dumps({"a": after_code, "s": scope}, salt=salt)


def code_after(cursor: str, scope: str, *, salt: str) -> str:
    """The code a cursor's page starts after; :class:`InvalidCursor` for a cursor this service
    did not sign with ``salt``, or one of another listing."""
    try:
        position: Any = signing.loads(cursor, salt=salt)
    except signing.BadSignature:
        raise InvalidCursor("The cursor was not issued by this service.") from None
    if not isinstance(position, dict) or position.get("s") != scope:
        raise InvalidCursor("The cursor belongs to a different listing.")
    return str(position["a"])


def stored_sites(integrator: Integrator) -> dict[str, StoredSite]:
    """Every site of the integrator (archived too) by code, as the import compares them: one
    query, whatever their number."""
    rows = list(
        Site.objects.filter(integrator=integrator).values(
            "id", "code", "version", "archived_at", "parent_id", *SITE_COLUMNS
        )
    )
    codes = {row["id"]: row["code"] for row in rows}
    return {
        row["code"]: StoredSite(
            id=str(row["id"]),
            code=row["code"],
            version=row["version"],
            archived=row["archived_at"] is not None,
            fields=compared_fields(row, codes.get(row["parent_id"])),
        )
        for row in rows
    }


#: The columns :func:`compared_fields` reads.
SITE_COLUMNS = ("name", "kind", *ADDRESS_COLUMNS.values(), "time_zone", "access_hours", "contacts")


def compared_fields(row: dict[str, Any], parent_code: str | None) -> dict[str, Any]:
    """A stored site's fields as the rules clean them (``facilities.domain.import_plan``'s
    ``COMPARED``), from its columns."""
    return {
        "name": row["name"],
        "kind": row["kind"],
        "parent_code": parent_code,
        "address": {part: row[column] for part, column in ADDRESS_COLUMNS.items()},
        "time_zone": row["time_zone"],
        "access_hours": row["access_hours"],
        "contacts": row["contacts"],
    }

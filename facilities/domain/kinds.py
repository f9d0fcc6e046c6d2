"""What a site is (region, site, building, floor) and where each kind may hang: the hierarchy's
rules, over plain values so that the API, the admin and the import check the same thing.

A region groups sites; a site is a place with an address (a store, a depot); a building
stands on a site; a floor is in a building, or on a site that is one building. So:

    region  → (top only: regions do not nest)
    site    → top, or under a region
    building→ top, or under a site
    floor   → top, or under a site or a building

Every kind may stand alone at the top (an integrator that only has buildings needs no site
above them). A parent is always one rank up, so a chain is at most four deep and never comes
back to itself; the cycle check still runs first, to say so in those words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class SiteKind(StrEnum):
    REGION = "region"
    SITE = "site"
    BUILDING = "building"
    FLOOR = "floor"


KINDS: tuple[str, ...] = tuple(kind.value for kind in SiteKind)

#: Kinds in people's words (the admin never shows the slug; the API keeps it).
KIND_LABELS: Mapping[str, str] = {
    SiteKind.REGION: "Region",
    SiteKind.SITE: "Site",
    SiteKind.BUILDING: "Building",
    SiteKind.FLOOR: "Floor",
}

#: The kinds a site of each kind may have as its parent (none: only at the top).
ALLOWED_PARENTS: Mapping[str, frozenset[str]] = {
    SiteKind.REGION: frozenset(),
    SiteKind.SITE: frozenset({SiteKind.REGION}),
    SiteKind.BUILDING: frozenset({SiteKind.SITE}),
    SiteKind.FLOOR: frozenset({SiteKind.SITE, SiteKind.BUILDING}),
}

#: More hops than any valid chain has: a walk up that goes further met bad data or a loop.
MAX_HOPS = 16


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, str(kind).capitalize())


def _an(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label.lower()


def allowed_parents_text(kind: str) -> str:
    allowed = sorted(ALLOWED_PARENTS.get(kind, ()), key=KINDS.index)
    if not allowed:
        return f"{_an(kind_label(kind)).capitalize()} stands at the top: it has no parent."
    names = " or ".join(_an(kind_label(k)) for k in allowed)
    return f"{_an(kind_label(kind)).capitalize()} may only be under {names}."


def parent_problem(kind: str, parent_kind: str) -> str | None:
    """Why a ``kind`` cannot hang under a ``parent_kind`` (``None`` if it can)."""
    if parent_kind in ALLOWED_PARENTS.get(kind, ()):
        return None
    return f"{allowed_parents_text(kind)} This parent is {_an(kind_label(parent_kind))}."


def children_problem(kind: str, child_kinds: Iterable[str]) -> str | None:
    """Why a site cannot become a ``kind`` while these kinds hang under it."""
    misfits = sorted({c for c in child_kinds if kind not in ALLOWED_PARENTS.get(c, ())})
    if not misfits:
        return None
    names = ", ".join(kind_label(c).lower() + "s" for c in misfits)
    return (
        f"It has {names} under it, which cannot be under {_an(kind_label(kind))}: move them first."
    )


def cycle_problem(site_key: str, parent_chain: Iterable[str]) -> str | None:
    """``parent_chain``: the new parent, then its parent, and so on up. Why putting the site
    under it would make the site its own ancestor (``None`` if it would not)."""
    for hops, ancestor in enumerate(parent_chain):
        if ancestor == site_key:
            return (
                "The parent is the site itself or one of the sites under it: "
                "a site cannot be its own ancestor."
            )
        if hops >= MAX_HOPS:
            return "The parent's chain is too long (or loops): it cannot be the parent."
    return None

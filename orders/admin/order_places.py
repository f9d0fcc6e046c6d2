"""Where an order is and what created it, as its staff pages show them: the site and the asset
(each a link to its own staff page, and to the orders there) and the maintenance plan.

The orders know no other app: the links are URL names of the staff site, reversed here. A page
that does not exist (yet) leaves its name as plain text rather than breaking the order's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from orders.domain.model import Order, PlaceRef

SITE_PAGE = "admin:facilities_site_change"
ASSET_PAGE = "admin:facilities_asset_change"
PLAN_PAGE = "admin:maintenance_maintenanceplan_change"


@dataclass(frozen=True)
class PlaceLink:
    """A site or an asset on an order's page: what it is, its page, and the orders there."""

    label: str
    ref: PlaceRef
    #: Its staff page (``None``: no such page on this site, shown as text).
    url: str | None
    #: The list of orders, narrowed to this place.
    orders_url: str


@dataclass(frozen=True)
class PlanNote:
    """What the page of a plan's order says: "Created by maintenance plan <name> for <due>"."""

    plan_name: str
    due_at: datetime
    url: str | None


def admin_url(name: str, object_id: str) -> str | None:
    try:
        return reverse(name, args=[object_id])
    except NoReverseMatch:
        return None


def orders_at_url(parameter: str, place_id: str) -> str:
    """The staff's list of orders at a site or on an asset (``site_id`` / ``asset_id``)."""
    return f"{reverse('admin:orders_workorder_changelist')}?{urlencode({parameter: place_id})}"


def place_links(order: Order) -> list[PlaceLink]:
    links = []
    for label, ref, page, parameter in (
        ("Site", order.site_ref, SITE_PAGE, "site_id"),
        ("Asset", order.asset_ref, ASSET_PAGE, "asset_id"),
    ):
        if ref is not None:
            links.append(
                PlaceLink(label, ref, admin_url(page, ref.id), orders_at_url(parameter, ref.id))
            )
    return links


def plan_note(order: Order) -> PlanNote | None:
    plan = order.maintenance
    if plan is None:
        return None
    return PlanNote(plan.plan_name, plan.due_at, admin_url(PLAN_PAGE, plan.plan_id))

"""What the plans ask of the orders, without knowing how they are stored: check that a plan's
template makes a valid order, and create one occurrence's order. ``portal.container`` hands in
the orders' answer (``plan_orders``); the plans never import the orders' services or stores
(``.importlinter``: maintenance-knows-no-order-store)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

#: Occurrence orders' ids derive from the plan and the due time: whoever creates one (two
#: schedulers, a pass repeated after a crash), the orders' conditional put admits it once.
OCCURRENCE_NAMESPACE = uuid.UUID("6f1d7c52-1b7e-4f57-9a39-6b1f0c3a2e11")


def occurrence_order_id(plan_id: str, due_at: datetime) -> str:
    due = due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(uuid.uuid5(OCCURRENCE_NAMESPACE, f"{plan_id}\n{due}"))


@dataclass(frozen=True)
class PlannedOrder:
    """The order one occurrence makes."""

    order_id: str
    integrator: str  # the integrator's slug
    title: str
    category: str
    priority: str
    description: str
    site_id: str
    asset_id: str | None
    plan_id: str
    plan_name: str
    due_at: datetime
    window_end: datetime


class OrderMaker(Protocol):
    def check_template(self, template: Mapping[str, str]) -> None:
        """Raise ``kernel.errors.ValidationError`` keyed ``order.<field>`` if the template
        would not make a valid order."""
        ...

    def create(self, order: PlannedOrder) -> bool:
        """Create the order; True: created now, False: it existed already (the same
        occurrence, created by an earlier pass). Raises ``ValidationError`` when it can never
        be created (the asset was retired), anything else when it may work later."""
        ...

"""The use cases that change orders, one family per module. The only code that writes orders
and emits events: the API, the admin and the status workers all call these, so the business
rules apply the same way everywhere. Reads are ``orders.selectors``.

- ``ports``: what they need from outside (the teams, whoever tells integrators, the sites
  and assets orders point at)
- ``changes``: the write path they share (read, check the version, write, retry a lost race)
- ``intake``: create, move, correct, resume
- ``timeline``: notes and attachments
- ``field_work``: technicians and visits
- ``assignment``: teams, their capacity and the line of waiting orders
- ``pipeline``: the status workers' verify → step → notify
- ``search_backfill``: staff search for orders stored before it

``OrderServices`` is them together, as the composition root (``portal.container``) builds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kernel.clock import utcnow
from orders.repository.base import OrderRepository, TeamLoads
from orders.selectors import OrderSelector

from .assignment import TeamAssignment
from .changes import OrderChanges
from .field_work import FieldWork
from .intake import OrderIntake
from .pipeline import WorkerPipeline
from .ports import NoPlaces, Notifier, PlaceDirectory, TeamDirectory, TeamInfo
from .search_backfill import SearchBackfill
from .timeline import OrderTimeline

__all__ = [
    "FieldWork",
    "NoPlaces",
    "Notifier",
    "OrderChanges",
    "OrderIntake",
    "OrderServices",
    "OrderTimeline",
    "PlaceDirectory",
    "SearchBackfill",
    "TeamAssignment",
    "TeamDirectory",
    "TeamInfo",
    "WorkerPipeline",
    "order_services",
]


@dataclass(frozen=True)
class OrderServices:
    """Every use case, wired to one store, one selector and one clock."""

    read: OrderSelector
    changes: OrderChanges
    intake: OrderIntake
    timeline: OrderTimeline
    field_work: FieldWork
    assignment: TeamAssignment
    pipeline: WorkerPipeline
    search: SearchBackfill


def order_services(
    *,
    orders: OrderRepository,
    read: OrderSelector,
    teams: TeamDirectory,
    loads: TeamLoads,
    notifier: Notifier,
    places: PlaceDirectory | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> OrderServices:
    """The use cases over ``orders`` (its store, queries and search parts) and ``read``;
    ``places``: the integrators' sites and assets new orders may point at (none: an order
    naming one is refused)."""
    changes = OrderChanges(store=orders, read=read, teams=teams, clock=clock)
    assignment = TeamAssignment(changes, queries=orders, loads=loads)
    return OrderServices(
        read=read,
        changes=changes,
        intake=OrderIntake(changes, places=places),
        timeline=OrderTimeline(changes),
        field_work=FieldWork(changes),
        assignment=assignment,
        pipeline=WorkerPipeline(changes, assignment=assignment, notifier=notifier),
        search=SearchBackfill(queries=orders, search=orders),
    )

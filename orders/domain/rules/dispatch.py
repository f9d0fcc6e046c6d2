"""Dispatch: whether a received order can be taken on, and which team it goes to.

The workers decide with these; the services read the teams' loads and make the reservation.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..model import SLA_BY_PRIORITY, Order, Priority


def review(order: Order, *, now: datetime, served_categories: Iterable[str]) -> str | None:
    """The received worker's check: ``None`` to accept, or the reason to reject."""
    if order.category not in set(served_categories):
        return f"No active team serves the {order.category!r} category."
    window = order.requested_window
    if window is not None and window.end <= now:
        return "The requested window has already ended."
    if window is not None and order.priority is Priority.URGENT:
        due = order.created_at + SLA_BY_PRIORITY[order.priority]  # review has no calendar yet
        if window.start > due:
            return "An urgent order cannot be requested for after its SLA is due."
    return None


@dataclass(frozen=True)
class TeamCandidate:
    """A team an order could go to: its capacity and the orders it holds now."""

    id: str
    capacity: int
    load: int


#: Teams a scheduler weighs for one order: a random few, the least loaded of them taken
#: ("the power of two choices"), so that no team's load item is read by every order of its
#: category; every team only when those few are full. 0: every team, always.
TEAMS_CONSIDERED = 4


def considered_teams(order_id: str, codes: Sequence[str]) -> list[str]:
    """The few teams an order is weighed for first: always the same for one order (seeded by
    its id), so that a retried attempt finds the reservation an earlier one made."""
    ordered = sorted(codes)
    if not TEAMS_CONSIDERED or len(ordered) <= TEAMS_CONSIDERED:
        return ordered
    return random.Random(order_id).sample(ordered, TEAMS_CONSIDERED)


def rank_teams(candidates: Sequence[TeamCandidate]) -> list[TeamCandidate]:
    """Least loaded first (by share of capacity used), ties by id; full teams are left out."""
    open_teams = [c for c in candidates if c.capacity > 0 and c.load < c.capacity]
    return sorted(open_teams, key=lambda c: (c.load / c.capacity, c.load, c.id))

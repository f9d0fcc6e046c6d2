"""Teams and their capacity: an accepted order given the least loaded team with room, waiting
in line (oldest first) when every team is full, the capacity a finished order held given to
whoever waited longest, and staff moving an order to another team."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection

from orders.domain import rules
from orders.domain.errors import ConcurrencyConflict, ValidationError
from orders.domain.model import Actor, Order
from orders.domain.rules import TeamCandidate
from orders.domain.workflow import Status
from orders.events.contract import to_message
from orders.repository.base import OrderQueries, TeamLoads
from orders.selectors import BACKLOG_BATCH

from .changes import OrderChanges, require_version
from .ports import TeamDirectory

log = logging.getLogger(__name__)

#: How old a worker's reading of a category's backlog marker may be on the way in (an order
#: arriving, capacity freed): every order of the category reads it, so this keeps its item
#: under DynamoDB's per-partition reads at any rate. An order may go ahead of one that began
#: waiting less than this ago; freed capacity the marker misses is given by the next release
#: or the backlog sweeper.
BACKLOG_MARK_MAX_AGE = 1.0
#: Who schedules a waiting order when capacity is freed or added (the workflow lets only the
#: system schedule).
BACKLOG_ACTOR = Actor.system("backlog")
#: How long a category's assigner may hold its lease (a dead one's lease runs out).
BACKLOG_LEAD_SECONDS = 30.0
#: Pages an assigner reads before handing over to the next trigger.
BACKLOG_ROUNDS = 20


class TeamAssignment:
    def __init__(self, changes: OrderChanges, *, queries: OrderQueries, loads: TeamLoads):
        self._changes = changes
        self._store = changes.store
        self._queries = queries
        self._loads = loads

    @property
    def _teams(self) -> TeamDirectory:
        return self._changes.teams

    def schedule(
        self, *, order_id: str, version: int, actor: Actor, stored: Order | None = None
    ) -> Order | None:
        """Accepted: assign the least loaded team serving the category, then schedule.

        Returns the scheduled order; the order unchanged when it has to wait in ``accepted``
        (the backlog) until capacity is freed or added (see :meth:`assign_waiting`); ``None``
        for a stale or duplicate event. A constant amount of work per event, however deep the
        queue: one read of the category's backlog marker, then the order places itself. Only
        when others already wait does it join the line behind them (oldest first), and then
        one assigner at a time per category places whoever is first."""
        order = self._changes.current(
            order_id, status=Status.ACCEPTED, version=version, stored=stored
        )
        if order is None:
            return None
        if self._loads.waiting_mark(order.category, max_age=BACKLOG_MARK_MAX_AGE) is None:
            placed = self._try_schedule(order, actor)
            if placed is None or placed.status is not Status.ACCEPTED:
                return placed
        # Every team is full, or older orders wait: in line, oldest first. Should room have
        # been freed meanwhile (its assigner may have looked before this order joined), the
        # category's assigner runs now, this order among those it considers.
        self._loads.join_waiting(order.category)
        if self._has_room(order.category):
            for placed in self._assign_category(order.category, actor, joining=order):
                if placed.id == order.id:
                    return placed
        log.info("order %s waits for a team: every %r team is full", order.id, order.category)
        return order

    def assign_waiting(
        self,
        *,
        categories: Collection[str] = (),
        actor: Actor = BACKLOG_ACTOR,
        limit: int = BACKLOG_BATCH,
    ) -> list[Order]:
        """Schedule waiting orders, oldest first, while their category has room: after
        capacity was freed (an order completed or cancelled) or added (a team raised, added,
        activated or given a category), and periodically as a safety net (no ``categories``:
        every category served, marked waiting or not, for a trigger that was missed). One
        assigner at a time per category; each move is conditional on status and version, and
        team slots are conditional reservations. Returns the orders it scheduled."""
        everything = not categories
        assigned: list[Order] = []
        for category in sorted(categories or self._teams.served_categories()):
            assigned += self._assign_category(category, actor, limit=limit, unmarked=everything)
        if assigned:
            log.info("assigned %d waiting order(s) to teams", len(assigned))
        return assigned

    def release_team(self, order: Order) -> list[Order]:
        """Cancelled or completed: free the capacity the order held (idempotent), then give
        it to the orders of the category that have waited longest. Returns those."""
        # Its team, and those it was weighed for among the active teams (as when it was
        # scheduled): where an attempt that died before recording its move can have left a
        # reservation.
        active = [t.code for t in self._teams.active_teams(order.category)]
        codes = rules.considered_teams(order.id, active)
        if order.assigned_team:
            codes = [*codes, order.assigned_team]
        for code, held in self._loads.holdings(dict.fromkeys(codes)).items():
            if order.id in held:
                self._loads.release(code, order.id)
        return self.assign_waiting(categories={order.category})

    def assign_team(
        self, *, order_id: str, team: str, expected_version: int, actor: Actor
    ) -> Order:
        """Move a scheduled or started order to another active team with room for it."""
        order = self._store.get(order_id)
        require_version(order, expected_version)
        moved, event = rules.reassign(
            order,
            team,
            actor=actor,
            now=self._changes.clock(),
            calendar=self._teams.calendar(team),
        )
        teams = {t.code: t for t in self._teams.active_teams(order.category)}
        if team not in teams:
            raise ValidationError(
                {"team": [f"{team!r} is not an active team serving {order.category!r}."]}
            )
        if not self._loads.reserve(team, order.id, capacity=teams[team].capacity):
            raise ValidationError({"team": [f"Team {team} is full."]})
        try:
            self._store.save_move(
                moved,
                to_message(event),
                expected_status=order.status,
                expected_version=order.version,
            )
        except ConcurrencyConflict:
            self._loads.release(team, order.id)
            raise
        if order.assigned_team:
            self._loads.release(order.assigned_team, order.id)
        return moved

    def _has_room(self, category: str) -> bool:
        teams = {t.code: t for t in self._teams.active_teams(category)}
        return any(
            len(held) < teams[code].capacity for code, held in self._loads.holdings(teams).items()
        )

    def _assign_category(
        self,
        category: str,
        actor: Actor,
        *,
        limit: int = BACKLOG_BATCH,
        unmarked: bool = False,
        joining: Order | None = None,
    ) -> list[Order]:
        """Place the category's waiting orders, oldest first, until its teams are full or
        nobody waits; then clear the marker, unless an order joined meanwhile (then look
        again). Only the assigner holding the category's lease does this: others return at
        once, their orders in the line it reads. ``unmarked``: look even with no marker (the
        periodic pass); ``joining``: an order that joined the line just now, considered even
        if the index does not list it yet."""
        marked = self._loads.waiting_mark(category, max_age=BACKLOG_MARK_MAX_AGE)
        if not unmarked and joining is None and marked is None:
            return []  # nobody waits: no lease to take (and two writes saved)
        owner = uuid.uuid4().hex
        if not self._loads.lead_backlog(category, owner, seconds=BACKLOG_LEAD_SECONDS):
            return []
        assigned: list[Order] = []
        try:
            for _ in range(BACKLOG_ROUNDS):
                mark = self._loads.waiting_mark(category)
                if mark is None and not unmarked:
                    break
                waiting = self._queries.oldest_first(
                    Status.ACCEPTED, limit=limit, categories={category}
                )
                listed = {w.id for w in waiting}
                if joining is not None and len(waiting) < limit and joining.id not in listed:
                    waiting = sorted([*waiting, joining], key=lambda o: o.created_at)
                full = False
                for order in waiting:
                    placed = self._schedule_waiting(order.id, actor)
                    if placed is None:
                        continue
                    if placed.status is Status.ACCEPTED:
                        full = True
                        break
                    assigned.append(placed)
                if full:
                    break
                if len(waiting) < limit and (
                    mark is None or self._loads.clear_waiting(category, mark)
                ):
                    break  # nobody waits any more
                unmarked, joining = False, None  # more joined meanwhile, or another page
        finally:
            self._loads.leave_backlog(category, owner)
        return assigned

    def _schedule_waiting(self, order_id: str, actor: Actor) -> Order | None:
        # Listings come from an index (eventually consistent, no history): read it again.
        order = self._store.get(order_id)
        if order.status is not Status.ACCEPTED:
            return None
        return self._try_schedule(order, actor)

    def _try_schedule(self, order: Order, actor: Actor) -> Order | None:
        """The scheduled order; ``order`` itself if no team has room; ``None`` if it moved
        meanwhile."""
        team = self._reserve_team(order)
        if team is None:
            return order
        try:
            moved, _ = self._changes.move(order, Status.SCHEDULED, actor=actor, team=team)
        except ConcurrencyConflict as exc:
            # Moved meanwhile. If a duplicate of this event won the race, the order now holds
            # this very team and keeps it; otherwise (cancelled, say) give the capacity back.
            if self._store.get(order.id).assigned_team != team:
                self._loads.release(team, order.id)
            log.info("order %s moved while being scheduled: %s", order.id, exc)
            return None
        return moved

    def _reserve_team(self, order: Order) -> str | None:
        teams = {t.code: t for t in self._teams.active_teams(order.category)}
        few = rules.considered_teams(order.id, list(teams))
        rest = [code for code in teams if code not in few]
        for considered in (few, rest):
            if not considered:
                continue
            holdings = self._loads.holdings(considered)
            for code, held in holdings.items():
                if order.id in held:
                    return code  # reserved by an earlier attempt at this same event
            candidates = [
                TeamCandidate(id=code, capacity=teams[code].capacity, load=len(held))
                for code, held in holdings.items()
            ]
            for candidate in rules.rank_teams(candidates):
                if self._loads.reserve(candidate.id, order.id, capacity=candidate.capacity):
                    return candidate.id
        return None

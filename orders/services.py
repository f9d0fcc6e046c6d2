"""The use cases that change orders. The only code that writes orders and emits events: the API,
the admin and the status workers all call these, so the business rules apply the same way
everywhere. Reads are ``orders.selectors``."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from orders.domain import rules
from orders.domain.errors import (
    ConcurrencyConflict,
    DuplicateReference,
    OrderAlreadyExists,
    PermissionDenied,
    ValidationError,
)
from orders.domain.model import (
    Actor,
    Attachment,
    Note,
    Order,
    OrderEvent,
    TechnicianRef,
    TimeWindow,
    new_order_id,
    recorded,
    reference_order_id,
)
from orders.domain.rules import OrderInput, TeamCandidate
from orders.domain.sla import ALWAYS, BusinessCalendar
from orders.domain.workflow import STATUSES, ActorKind, Status
from orders.events.contract import ReceivedEvent, check_against_order, to_message
from orders.repository.base import OrderRepository, TeamLoads
from orders.repository.fan_out import SEQUENTIAL, FanOut
from orders.selectors import BACKLOG_BATCH, OrderSelector
from portal import log_context, metrics

log = logging.getLogger(__name__)
T = TypeVar("T")


#: How old a worker's reading of a category's backlog marker may be on the way in (an order
#: arriving, capacity freed): every order of the category reads it, so this keeps its item
#: under DynamoDB's per-partition reads at any rate. An order may go ahead of one that began
#: waiting less than this ago; freed capacity the marker misses is given by the next release
#: or the backlog sweeper.
BACKLOG_MARK_MAX_AGE = 1.0


@dataclass(frozen=True)
class TeamInfo:
    code: str
    capacity: int


class TeamDirectory(Protocol):
    """The teams staff maintain (reference data), as the assignment rules need them."""

    def active_teams(self, category: str) -> list[TeamInfo]: ...

    def served_categories(self) -> set[str]: ...

    def calendar(self, team: str | None) -> BusinessCalendar:
        """The working hours the SLA of an order with this team counts in (the default
        calendar for no team, or a team without hours of its own)."""

    def technician(self, team: str, technician_id: str) -> TechnicianRef | None:
        """The team's active member with this id, if there is one."""


class Notifier(Protocol):
    def notify(self, event: ReceivedEvent, *, integrator: str) -> int:
        """Tell ``integrator``'s subscribers about this event (idempotent per event). The
        integrator is the stored order's, never the one the event body names."""


#: Who schedules a waiting order when capacity is freed or added (the workflow lets only the
#: system schedule).
BACKLOG_ACTOR = Actor.system("backlog")
#: How long a category's assigner may hold its lease (a dead one's lease runs out).
BACKLOG_LEAD_SECONDS = 30.0
#: Pages an assigner reads before handing over to the next trigger.
BACKLOG_ROUNDS = 20


def require_version(order: Order, expected_version: int) -> None:
    """Refuse a change made on a stale read of the order (optimistic concurrency). The
    version callers hold is :attr:`Order.public_version` (the API's ETag, the admin's forms):
    a change nobody acting on the order needs to see again (a staff member's internal note)
    does not make their read stale. The write itself is conditional on every change."""
    if order.public_version != expected_version:
        raise ConcurrencyConflict(
            order_id=order.id,
            expected_status=order.status,
            expected_version=expected_version,
            actual_status=order.status,
            actual_version=order.public_version,
        )


#: How many times a change is tried on a fresh read when another change to the order won the
#: race for its version (each round one of the racers wins, so ten writers at once all land).
CHANGE_ATTEMPTS = 10


def utcnow() -> datetime:
    return datetime.now(UTC)


class OrderService:
    def __init__(
        self,
        *,
        orders: OrderRepository,
        teams: TeamDirectory,
        loads: TeamLoads,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
        fan_out: FanOut = SEQUENTIAL,
    ):
        self.orders = orders
        self.teams = teams
        self.loads = loads
        self.notifier = notifier
        self.clock = clock
        #: The reads, the writes' and everyone else's (``portal.container.order_selector``);
        #: ``fan_out`` issues their independent reads at once.
        self.read = OrderSelector(
            orders=orders, calendar=teams.calendar, clock=clock, fan_out=fan_out
        )

    # -- integrators and staff -------------------------------------------------------------

    def create_order(
        self, *, data: OrderInput, integrator: str, actor: Actor, order_id: str | None = None
    ) -> Order:
        """Store a new order in ``received``. An external reference is unique per integrator:
        a second order with it is refused with :class:`DuplicateReference`."""
        if order_id is None:
            order_id = (
                reference_order_id(integrator, data.external_reference)
                if data.external_reference
                else new_order_id()
            )
        order, event = rules.create_order(
            data, order_id=order_id, integrator=integrator, actor=actor, now=self.clock()
        )
        try:
            # Stored with its event in one write; the event relay publishes it from the stream.
            self.orders.add(order, to_message(event))
        except OrderAlreadyExists:
            if order.external_reference:
                raise DuplicateReference(
                    order_id=order.id, external_reference=order.external_reference
                ) from None
            raise
        metrics.ORDERS_CREATED.labels(str(actor.kind)).inc()
        log_context.set_field("order_id", order.id)
        return order

    def transition_order(
        self,
        *,
        order_id: str,
        to: str,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
        team: str | None = None,
        integrator: str | None = None,
    ) -> Order:
        """Move an order as ``actor``; with ``expected_version`` the move is refused
        (:class:`ConcurrencyConflict`) if the order changed since the caller read it.
        Without, a change that lands first does not refuse it: the move is checked again
        against the order as it is now and made if the workflow allows it."""

        def move(order: Order) -> Order:
            moved, _ = self._move(order, to, actor=actor, reason=reason, team=team)
            return moved

        return self._changing(
            order_id, move, integrator=integrator, expected_version=expected_version
        )

    def _changing(
        self,
        order_id: str,
        change: Callable[[Order], T],
        *,
        integrator: str | None,
        expected_version: int | None,
    ) -> T:
        """``change`` applied to the order as stored now. When another change wins the race
        for the order's version, read it again and retry, while the caller's condition
        (``expected_version``) still holds: the caller asked for no more than that, so a note
        or a staff member's internal change landing first is no reason to refuse it."""
        for attempt in range(1, CHANGE_ATTEMPTS + 1):
            order = self.read.get_order(order_id, integrator=integrator)
            if expected_version is not None:
                require_version(order, expected_version)
            try:
                return change(order)
            except ConcurrencyConflict as exc:
                if attempt == CHANGE_ATTEMPTS:
                    now = self.orders.get(order_id)
                    raise ConcurrencyConflict(  # in the versions callers hold
                        order_id=order_id,
                        expected_status=exc.expected_status,
                        expected_version=order.public_version,
                        actual_status=now.status,
                        actual_version=now.public_version,
                    ) from exc
                log.info("order %s changed meanwhile (%s): trying again", order_id, exc)
                # Racers spread out, so that each round is not the same pile-up.
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 6)))
        raise AssertionError("unreachable")

    def update_order(
        self, *, order_id: str, changes: dict, expected_version: int, actor: Actor
    ) -> Order:
        """Correct an open order's details if it is still at ``expected_version``
        (:class:`ConcurrencyConflict` otherwise: the caller shows what changed)."""
        order = self.orders.get(order_id)
        require_version(order, expected_version)
        edited, event = rules.edit(
            order, changes, actor=actor, now=self.clock(), calendar=self._calendar(order)
        )
        self.orders.save_move(
            edited,
            to_message(event),
            expected_status=order.status,
            expected_version=order.version,
        )
        return edited

    def assign_team(
        self, *, order_id: str, team: str, expected_version: int, actor: Actor
    ) -> Order:
        """Move a scheduled or started order to another active team with room for it."""
        order = self.orders.get(order_id)
        require_version(order, expected_version)
        moved, event = rules.reassign(
            order, team, actor=actor, now=self.clock(), calendar=self.teams.calendar(team)
        )
        teams = {t.code: t for t in self.teams.active_teams(order.category)}
        if team not in teams:
            raise ValidationError(
                {"team": [f"{team!r} is not an active team serving {order.category!r}."]}
            )
        if not self.loads.reserve(team, order.id, capacity=teams[team].capacity):
            raise ValidationError({"team": [f"Team {team} is full."]})
        try:
            self.orders.save_move(
                moved,
                to_message(event),
                expected_status=order.status,
                expected_version=order.version,
            )
        except ConcurrencyConflict:
            self.loads.release(team, order.id)
            raise
        if order.assigned_team:
            self.loads.release(order.assigned_team, order.id)
        return moved

    def _move(
        self,
        order: Order,
        to: str,
        *,
        actor: Actor,
        reason: str | None = None,
        team: str | None = None,
    ) -> tuple[Order, OrderEvent]:
        moved, event = rules.move(
            order,
            to,
            actor=actor,
            now=self.clock(),
            reason=reason,
            team=team,
            calendar=self.teams.calendar(team or order.assigned_team),
        )
        self.orders.save_move(
            moved, to_message(event), expected_status=order.status, expected_version=order.version
        )
        metrics.ORDER_TRANSITIONS.labels(str(order.status), str(moved.status)).inc()
        return moved, event

    def resume_order(
        self, *, order_id: str, actor: Actor, expected_version: int | None = None
    ) -> Order:
        """Take an order off hold, back to the status it was held from."""

        def resume(order: Order) -> Order:
            held = order.hold
            if held is None or held.from_status is None:
                raise ValidationError({"status": [f"A {order.status} order is not on hold."]})
            moved, _ = self._move(order, held.from_status, actor=actor)
            return moved

        return self._changing(order_id, resume, integrator=None, expected_version=expected_version)

    # -- search ---------------------------------------------------------------------------------

    def index_for_search(
        self, *, report: Callable[[str, int, int], None] = lambda *_: None
    ) -> tuple[int, int]:
        """Make every stored order findable by staff search (orders stored before search
        existed, or whose index entries were lost). Reads each status's orders from its
        index a page at a time (no scan); idempotent. Returns (orders, entries written);
        ``report(status, orders, entries)`` after each status."""
        orders_seen = entries = 0
        for status in STATUSES:
            in_status, cursor = 0, None
            while True:
                page = self.orders.list_by_status(status, limit=200, cursor=cursor)
                entries += self.orders.index_for_search(page.items)
                in_status += len(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
            orders_seen += in_status
            report(str(status), in_status, entries)
        return orders_seen, entries

    # -- the SLA clock ------------------------------------------------------------------------

    def _calendar(self, order: Order) -> BusinessCalendar:
        return self.teams.calendar(order.assigned_team)

    # -- notes and attachments ----------------------------------------------------------------

    def _save(self, order: Order, changed: Order, event: OrderEvent, *, adds=()) -> Order:
        self.orders.save_move(
            changed,
            to_message(event),
            expected_status=order.status,
            expected_version=order.version,
            adds=adds,
        )
        return changed

    def _for_change(
        self, order_id: str, *, integrator: str | None, expected_version: int | None
    ) -> Order:
        order = self.read.get_order(order_id, integrator=integrator)
        if expected_version is not None:
            require_version(order, expected_version)
        return order

    def add_note(
        self,
        *,
        order_id: str,
        text: str,
        actor: Actor,
        author_name: str,
        visibility: str | None = None,
        integrator: str | None = None,
        expected_version: int | None = None,
    ) -> Note:
        """Put a note on the order's timeline (``order.note_added``). An integrator's note
        is public; staff choose. ``integrator``: only on that integrator's order. A note does
        not depend on the order's state: another change landing first only means another try."""

        def add(order: Order) -> Note:
            changed, event, note = rules.add_note(
                order,
                text,
                visibility=visibility,
                actor=actor,
                author_name=author_name,
                now=self.clock(),
                calendar=self._calendar(order),
            )
            self._save(order, changed, event, adds=[note])
            return note

        note = self._changing(
            order_id, add, integrator=integrator, expected_version=expected_version
        )
        metrics.NOTES_ADDED.labels(str(actor.kind), str(note.visibility)).inc()
        return note

    def record_attachment(
        self, attachment: Attachment, *, integrator: str | None = None
    ) -> Attachment:
        """Record a file already stored under ``attachment.key`` (``order.attachment_added``).
        Recording the same attachment id again returns the one recorded (a retried request);
        another change to the order landing first only means another try."""

        def record(order: Order) -> Attachment:
            existing = self.orders.attachment(order.id, attachment.id)
            if existing is not None and recorded(order, [existing]):
                return existing
            changed, event = rules.add_attachment(
                order, attachment, now=self.clock(), calendar=self._calendar(order)
            )
            self._save(order, changed, event, adds=[attachment])
            return attachment

        return self._changing(
            attachment.order_id,
            record,
            integrator=integrator,
            expected_version=None,
        )

    # -- technicians and visits ---------------------------------------------------------------

    def assign_technician(
        self,
        *,
        order_id: str,
        technician_id: str,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Order:
        """Give the order to an active member of its team."""
        order = self._for_change(order_id, integrator=None, expected_version=expected_version)
        if actor.kind is not ActorKind.STAFF:
            raise PermissionDenied("Only staff may assign a technician.")
        technician = (
            self.teams.technician(order.assigned_team, technician_id)
            if order.assigned_team
            else None
        )
        if technician is None:
            raise ValidationError(
                {
                    "technician": [
                        f"{technician_id!r} is not an active member of team "
                        f"{order.assigned_team or '(none yet)'}."
                    ]
                }
            )
        changed, event = rules.assign_technician(
            order, technician, actor=actor, now=self.clock(), calendar=self._calendar(order)
        )
        return self._save(order, changed, event)

    def schedule_visit(
        self,
        *,
        order_id: str,
        window: TimeWindow,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Order:
        """Book the technician's visit (``order.visit_scheduled``)."""
        order = self._for_change(order_id, integrator=None, expected_version=expected_version)
        changed, event = rules.schedule_visit(
            order, window, actor=actor, now=self.clock(), calendar=self._calendar(order)
        )
        return self._save(order, changed, event)

    def reschedule_visit(
        self,
        *,
        order_id: str,
        window: TimeWindow,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Order:
        """Move the booked visit (``order.visit_rescheduled``)."""
        order = self._for_change(order_id, integrator=None, expected_version=expected_version)
        changed, event = rules.reschedule_visit(
            order,
            window,
            actor=actor,
            now=self.clock(),
            reason=reason,
            calendar=self._calendar(order),
        )
        return self._save(order, changed, event)

    def plan_visit(
        self,
        *,
        order_id: str,
        window: TimeWindow,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Order, bool]:
        """Book the visit, or move the booked one (the order, and whether it was moved)."""
        order = self._for_change(order_id, integrator=None, expected_version=expected_version)
        booked = order.visit is not None and order.visit.open
        now, calendar = self.clock(), self._calendar(order)
        if booked:
            changed, event = rules.reschedule_visit(
                order, window, actor=actor, now=now, reason=reason, calendar=calendar
            )
        else:
            changed, event = rules.schedule_visit(
                order, window, actor=actor, now=now, calendar=calendar
            )
        return self._save(order, changed, event), booked

    def check_in(
        self, *, order_id: str, actor: Actor, expected_version: int | None = None
    ) -> Order:
        """The technician arrived: a scheduled order starts (``order.visit_checked_in``)."""
        order = self._for_change(order_id, integrator=None, expected_version=expected_version)
        changed, event = rules.check_in(
            order, actor=actor, now=self.clock(), calendar=self._calendar(order)
        )
        return self._save(order, changed, event)

    def check_out(
        self, *, order_id: str, actor: Actor, expected_version: int | None = None
    ) -> Order:
        """The technician left (``order.visit_checked_out``)."""
        order = self._for_change(order_id, integrator=None, expected_version=expected_version)
        changed, event = rules.check_out(
            order, actor=actor, now=self.clock(), calendar=self._calendar(order)
        )
        return self._save(order, changed, event)

    # -- status workers ----------------------------------------------------------------------

    def current(
        self, order_id: str, *, status: str, version: int, stored: Order | None = None
    ) -> Order | None:
        """The order if it is still where the event left it; ``None`` if it has moved on
        (the event is stale or a duplicate and must be skipped, not applied again).
        ``stored``: the order as just read (a worker's :meth:`verified_order`), not read again."""
        fresh = stored is not None and stored.id == order_id
        order = stored if fresh else self.orders.get(order_id)
        if order.status != status or order.version != version:
            log.info(
                "skipping stale event for order %s: event says %s v%s, order is %s v%s",
                order_id,
                status,
                version,
                order.status,
                order.version,
            )
            return None
        return order

    def review(
        self, *, order_id: str, version: int, actor: Actor, stored: Order | None = None
    ) -> Order | None:
        """Received: check the business rules; accept (setting the SLA) or reject."""
        order = self.current(order_id, status=Status.RECEIVED, version=version, stored=stored)
        if order is None:
            return None
        reason = rules.review(
            order, now=self.clock(), served_categories=self.teams.served_categories()
        )
        try:
            if reason:
                moved, _ = self._move(order, Status.REJECTED, actor=actor, reason=reason)
            else:
                moved, _ = self._move(order, Status.ACCEPTED, actor=actor)
        except ConcurrencyConflict as exc:
            log.info("order %s moved while being reviewed: %s", order_id, exc)
            return None
        return moved

    def verified_order(self, event: ReceivedEvent) -> Order:
        """The stored order ``event`` is about, once it is sure the order committed this very
        event (:class:`OrderNotFound`, or :class:`EventMismatch` for a forged or altered one).
        Workers act, and notify, on the stored order, never on what a body claims."""
        order = self.orders.get(event.order_id)
        check_against_order(event, order)
        return order

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
        order = self.current(order_id, status=Status.ACCEPTED, version=version, stored=stored)
        if order is None:
            return None
        if self.loads.waiting_mark(order.category, max_age=BACKLOG_MARK_MAX_AGE) is None:
            placed = self._try_schedule(order, actor)
            if placed is None or placed.status is not Status.ACCEPTED:
                return placed
        # Every team is full, or older orders wait: in line, oldest first. Should room have
        # been freed meanwhile (its assigner may have looked before this order joined), the
        # category's assigner runs now, this order among those it considers.
        self.loads.join_waiting(order.category)
        if self._has_room(order.category):
            for placed in self._assign_category(order.category, actor, joining=order):
                if placed.id == order.id:
                    return placed
        return self._waits(order)

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
        for category in sorted(categories or self.teams.served_categories()):
            assigned += self._assign_category(category, actor, limit=limit, unmarked=everything)
        if assigned:
            log.info("assigned %d waiting order(s) to teams", len(assigned))
        return assigned

    def _has_room(self, category: str) -> bool:
        teams = {t.code: t for t in self.teams.active_teams(category)}
        return any(
            len(held) < teams[code].capacity for code, held in self.loads.holdings(teams).items()
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
        marked = self.loads.waiting_mark(category, max_age=BACKLOG_MARK_MAX_AGE)
        if not unmarked and joining is None and marked is None:
            return []  # nobody waits: no lease to take (and two writes saved)
        owner = uuid.uuid4().hex
        if not self.loads.lead_backlog(category, owner, seconds=BACKLOG_LEAD_SECONDS):
            return []
        assigned: list[Order] = []
        try:
            for _ in range(BACKLOG_ROUNDS):
                mark = self.loads.waiting_mark(category)
                if mark is None and not unmarked:
                    break
                waiting = self.orders.oldest_first(
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
                    mark is None or self.loads.clear_waiting(category, mark)
                ):
                    break  # nobody waits any more
                unmarked, joining = False, None  # more joined meanwhile, or another page
        finally:
            self.loads.leave_backlog(category, owner)
        return assigned

    def _schedule_waiting(self, order_id: str, actor: Actor) -> Order | None:
        # Listings come from an index (eventually consistent, no history): read it again.
        order = self.orders.get(order_id)
        if order.status is not Status.ACCEPTED:
            return None
        return self._try_schedule(order, actor)

    def _waits(self, order: Order) -> Order:
        log.info("order %s waits for a team: every %r team is full", order.id, order.category)
        return order

    def _try_schedule(self, order: Order, actor: Actor) -> Order | None:
        """The scheduled order; ``order`` itself if no team has room; ``None`` if it moved
        meanwhile."""
        team = self._reserve_team(order)
        if team is None:
            return order
        try:
            moved, _ = self._move(order, Status.SCHEDULED, actor=actor, team=team)
        except ConcurrencyConflict as exc:
            # Moved meanwhile. If a duplicate of this event won the race, the order now holds
            # this very team and keeps it; otherwise (cancelled, say) give the capacity back.
            if self.orders.get(order.id).assigned_team != team:
                self.loads.release(team, order.id)
            log.info("order %s moved while being scheduled: %s", order.id, exc)
            return None
        return moved

    def _reserve_team(self, order: Order) -> str | None:
        teams = {t.code: t for t in self.teams.active_teams(order.category)}
        few = rules.considered_teams(order.id, list(teams))
        rest = [code for code in teams if code not in few]
        for considered in (few, rest):
            if not considered:
                continue
            holdings = self.loads.holdings(considered)
            for code, held in holdings.items():
                if order.id in held:
                    return code  # reserved by an earlier attempt at this same event
            candidates = [
                TeamCandidate(id=code, capacity=teams[code].capacity, load=len(held))
                for code, held in holdings.items()
            ]
            for candidate in rules.rank_teams(candidates):
                if self.loads.reserve(candidate.id, order.id, capacity=candidate.capacity):
                    return candidate.id
        return None

    def release_team(self, order: Order) -> list[Order]:
        """Cancelled or completed: free the capacity the order held (idempotent), then give
        it to the orders of the category that have waited longest. Returns those."""
        # Its team, and those it was weighed for among the active teams (as when it was
        # scheduled): where an attempt that died before recording its move can have left a
        # reservation.
        active = [t.code for t in self.teams.active_teams(order.category)]
        codes = rules.considered_teams(order.id, active)
        if order.assigned_team:
            codes = [*codes, order.assigned_team]
        for code, held in self.loads.holdings(dict.fromkeys(codes)).items():
            if order.id in held:
                self.loads.release(code, order.id)
        return self.assign_waiting(categories={order.category})

    def notify(self, event: ReceivedEvent, order: Order) -> int:
        """Tell the stored ``order``'s integrator (see :meth:`verified_order`); events about
        internal notes and attachments are for staff only and go to nobody."""
        if event.internal:
            return 0
        return self.notifier.notify(event, integrator=order.integrator)


__all__ = [
    "ALWAYS",
    "BACKLOG_ACTOR",
    "OrderAlreadyExists",
    "OrderInput",
    "OrderService",
    "TeamDirectory",
    "TeamInfo",
    "utcnow",
]

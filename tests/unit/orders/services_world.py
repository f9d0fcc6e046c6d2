"""The order use cases' world for unit tests: the in-memory repositories, fakes for the teams
and webhooks, a clock the test moves, and the use cases wired to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orders.domain.model import Actor, Order, TechnicianRef
from orders.domain.rules import OrderInput
from orders.domain.sla import ALWAYS, BusinessCalendar
from orders.domain.workflow import Status
from orders.events.contract import EventMessage
from orders.repository.memory import InMemoryOrderRepository, InMemoryTeamLoads
from orders.selectors import OrderSelector
from orders.services import TeamInfo, order_services

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INTEGRATOR = Actor.integrator("acme")
STAFF = Actor.staff("alice")
RECEIVED_WORKER = Actor.system("received-worker")
ACCEPTED_WORKER = Actor.system("accepted-worker")
#: code -> (capacity, categories served)
DEFAULT_TEAMS = {"north": (2, {"hvac"}), "south": (3, {"hvac", "general"})}


class FakeTeamDirectory:
    def __init__(
        self,
        teams: dict[str, tuple[int, set[str]]],
        *,
        calendars: dict[str, BusinessCalendar] | None = None,
        members: dict[str, dict[str, str]] | None = None,
    ):
        #: code -> (capacity, categories)
        self.teams = teams
        #: code -> working hours (the default: always)
        self.calendars = calendars or {}
        #: code -> {technician id: name}
        self.members = members or {}

    def calendar(self, team: str | None) -> BusinessCalendar:
        return self.calendars.get(team or "", ALWAYS)

    def technician(self, team: str, technician_id: str) -> TechnicianRef | None:
        name = self.members.get(team, {}).get(technician_id)
        return TechnicianRef(technician_id, name) if name else None

    def active_teams(self, category: str) -> list[TeamInfo]:
        return [
            TeamInfo(code=code, capacity=capacity)
            for code, (capacity, categories) in self.teams.items()
            if category in categories
        ]

    def served_categories(self) -> set[str]:
        return {c for _, categories in self.teams.values() for c in categories}


class FakeNotifier:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def notify(self, event, *, integrator: str) -> int:
        self.calls.append((integrator, event.order_id, event.status, event.id))
        return 1


class Clock:
    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


class World:
    """One service with every collaborator in reach of the test."""

    def __init__(self, teams: dict[str, tuple[int, set[str]]] | None = None, *, places=None):
        self.repo = InMemoryOrderRepository()
        self.teams = FakeTeamDirectory(teams if teams is not None else dict(DEFAULT_TEAMS))
        self.loads = InMemoryTeamLoads()
        self.notifier = FakeNotifier()
        self.clock = Clock()
        self.service = order_services(
            orders=self.repo,
            read=OrderSelector(orders=self.repo, calendar=self.teams.calendar, clock=self.clock),
            teams=self.teams,
            loads=self.loads,
            notifier=self.notifier,
            places=places,
            clock=self.clock,
        )

    @property
    def published(self) -> list[EventMessage]:
        """Events committed with their orders, in order: what the event relay publishes."""
        return self.repo.stream

    @property
    def statuses(self) -> list[str]:
        return [m.attributes["status"] for m in self.published]

    def create(self, *, category: str = "hvac", order_id: str | None = None, **fields) -> Order:
        data = OrderInput(
            title="Fix the boiler", category=category, site="12 High Street", **fields
        )
        return self.service.intake.create_order(
            data=data, integrator="acme", actor=INTEGRATOR, order_id=order_id
        )

    def accepted(self, **kwargs) -> Order:
        order = self.create(**kwargs)
        self.clock.advance(timedelta(minutes=1))
        moved = self.service.pipeline.review(
            order_id=order.id, version=order.version, actor=RECEIVED_WORKER
        )
        assert moved is not None and moved.status is Status.ACCEPTED
        return moved

    def scheduled(self, **kwargs) -> Order:
        order = self.accepted(**kwargs)
        self.clock.advance(timedelta(minutes=1))
        moved = self.service.assignment.schedule(
            order_id=order.id, version=order.version, actor=ACCEPTED_WORKER
        )
        assert moved is not None and moved.status is Status.SCHEDULED
        return moved

    def held(self, team: str) -> frozenset[str]:
        return self.loads.holdings([team])[team]

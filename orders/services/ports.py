"""What the use cases need from outside the orders' own storage: the teams staff maintain and
whoever tells integrators. The composition root (``portal.container``) hands in the real ones
(``orders.team_directory``, ``webhooks.recording``); tests hand in fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from orders.domain.model import TechnicianRef
from orders.domain.sla import BusinessCalendar
from orders.events.contract import ReceivedEvent


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

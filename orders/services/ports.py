"""What the use cases need from outside the orders' own storage: the teams staff maintain,
whoever tells integrators, and the integrators' sites and assets. The composition root
(``portal.container``) hands in the real ones (``orders.team_directory``,
``webhooks.recording``, ``portal.places``); tests hand in fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kernel.errors import ValidationError
from orders.domain.model import PlaceRef, TechnicianRef
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


class PlaceDirectory(Protocol):
    """The integrators' sites and assets (facilities' reference data), as a new order that
    points at them needs them: checked and snapshotted once, when the order is created."""

    def resolve(
        self, integrator: str, *, site_id: str | None, asset_id: str | None
    ) -> tuple[PlaceRef | None, PlaceRef | None]:
        """The site and the asset an order of ``integrator`` may be at: each must be the
        integrator's, the site active and the asset not retired; an asset alone puts the
        order at the asset's site; with both, the asset must be at the site or a site under
        it. Refused with a :class:`ValidationError` keyed ``site_id`` / ``asset_id``."""
        ...


class NoPlaces:
    """A directory that knows no site or asset: every id is refused (for use cases built
    without facilities, as some tests build them)."""

    def resolve(
        self, integrator: str, *, site_id: str | None, asset_id: str | None
    ) -> tuple[PlaceRef | None, PlaceRef | None]:
        errors: dict[str, list[str]] = {}
        if site_id is not None:
            errors["site_id"] = ["No site of yours has this id."]
        if asset_id is not None:
            errors["asset_id"] = ["No asset of yours has this id."]
        if errors:
            raise ValidationError(errors)
        return None, None

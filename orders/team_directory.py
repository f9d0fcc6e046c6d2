"""The teams staff maintain in the admin, as the services need them."""

from __future__ import annotations

from django.conf import settings

from orders.domain.model import TechnicianRef
from orders.domain.sla import BusinessCalendar, parse_calendar
from orders.models import Team, Technician
from orders.services import TeamInfo


class DjangoTeamDirectory:
    def active_teams(self, category: str) -> list[TeamInfo]:
        # JSONField "contains" is not portable to SQLite, and the table is small.
        return [
            TeamInfo(code=team.code, capacity=team.capacity)
            for team in Team.objects.filter(active=True).only("code", "capacity", "categories")
            if category in team.categories
        ]

    def served_categories(self) -> set[str]:
        served: set[str] = set()
        for categories in Team.objects.filter(active=True).values_list("categories", flat=True):
            served.update(categories)
        return served

    def calendar(self, team: str | None) -> BusinessCalendar:
        hours = ""
        if team:
            hours = Team.objects.filter(code=team).values_list("business_hours", flat=True).first()
        return parse_calendar(hours or settings.ORDERS_SLA_CALENDAR)

    def technician(self, team: str, technician_id: str) -> TechnicianRef | None:
        found = (
            Technician.objects.filter(code=technician_id, team__code=team, active=True)
            .values_list("code", "name")
            .first()
        )
        return TechnicianRef(id=found[0], name=found[1]) if found else None

"""The teams staff maintain in the admin, as the services need them."""

from __future__ import annotations

from orders.models import Team
from orders.services import TeamInfo


class DjangoTeamDirectory:
    def active_teams(self, category: str) -> list[TeamInfo]:
        # JSONField "contains" is not portable to SQLite, and the table is small.
        return [
            TeamInfo(code=team.code, capacity=team.capacity)
            for team in Team.objects.filter(active=True).only("code", "capacity", "categories")
            if category in team.categories
        ]

    def team_codes(self, category: str) -> list[str]:
        return [
            code
            for code, categories in Team.objects.values_list("code", "categories")
            if category in categories
        ]

    def served_categories(self) -> set[str]:
        served: set[str] = set()
        for categories in Team.objects.filter(active=True).values_list("categories", flat=True):
            served.update(categories)
        return served

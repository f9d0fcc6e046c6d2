"""Fixtures shared by the orders tests: an integrator, and a team with a technician."""

from __future__ import annotations

import pytest

from orders.models import Team, Technician
from tests.integration.conftest import make_integrator


@pytest.fixture
def acme(db):
    return make_integrator("Acme")


@pytest.fixture
def crew(db) -> Team:
    """A team that takes the orders' category (so they are scheduled), with one technician."""
    team, _ = Team.objects.update_or_create(
        code="hvac-crew",
        defaults={"name": "HVAC", "categories": ["hvac"], "capacity": 50, "active": True},
    )
    Technician.objects.update_or_create(
        code="ana", defaults={"team": team, "name": "Ana García", "active": True}
    )
    return team

"""The admin for the work-order domain: teams' members and business hours."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from orders.models import Team, Technician


@pytest.fixture
def superuser_client(db) -> Client:
    user = User.objects.create_superuser("boss", password="pw-not-used")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def crews(db) -> tuple[Team, Team]:
    hvac = Team.objects.create(
        code="hvac-crew-x",
        name="HVAC crew X",
        categories=["hvac"],
        business_hours="mon-fri 08:00-18:00 Europe/Madrid",
    )
    plumbing = Team.objects.create(code="plumbers-x", name="Plumbers X", categories=["plumbing"])
    Technician.objects.create(team=hvac, code="ana-x", name="Ana Ruiz")
    Technician.objects.create(team=plumbing, code="bo-x", name="Bo Lund", active=False)
    return hvac, plumbing


def test_team_list_shows_business_hours(superuser_client, crews):
    response = superuser_client.get(reverse("admin:orders_team_changelist"))
    assert response.status_code == 200
    assert "mon-fri 08:00-18:00 Europe/Madrid" in response.content.decode()


def test_team_page_lists_its_technicians(superuser_client, crews):
    hvac, _ = crews
    response = superuser_client.get(reverse("admin:orders_team_change", args=[hvac.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Ana Ruiz"' in page and "Bo Lund" not in page


def test_technician_list_filters_by_team(superuser_client, crews):
    _, plumbing = crews
    url = reverse("admin:orders_technician_changelist")
    everyone = superuser_client.get(url).content.decode()
    assert "Ana Ruiz" in everyone and "Bo Lund" in everyone
    plumbers = superuser_client.get(url, {"team__id__exact": plumbing.pk}).content.decode()
    assert "Bo Lund" in plumbers and "Ana Ruiz" not in plumbers

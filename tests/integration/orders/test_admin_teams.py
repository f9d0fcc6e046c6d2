"""Staff pick a team's categories by ticking boxes; the team keeps storing the same JSON list
the assignment reads, and the team list names the categories as people say them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from orders.models import Team

ADD = "/admin/orders/team/add/"
LIST = "/admin/orders/team/"


@pytest.fixture
def staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("teams-boss", password="pw-not-used"))
    return client


def team_form(**fields: object) -> dict[str, object]:
    """The add/change page's fields as a browser posts them, with an empty technicians inline;
    a field given as None is left out, as an unticked box is."""
    form = {
        "code": "night-shift",
        "name": "Night shift",
        "capacity": "10",
        "business_hours": "",
        "active": "on",
        "technicians-TOTAL_FORMS": "0",
        "technicians-INITIAL_FORMS": "0",
        "technicians-MIN_NUM_FORMS": "0",
        "technicians-MAX_NUM_FORMS": "1000",
        **fields,
    }
    return {name: value for name, value in form.items() if value is not None}


def test_ticked_categories_are_stored_as_the_teams_list(staff):
    # Ticked in another order than the page shows them: stored in the usual order.
    response = staff.post(ADD, team_form(categories=["electrical", "hvac"]))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Team.objects.get(code="night-shift").categories == ["hvac", "electrical"]
    listing = staff.get(LIST).content.decode()
    assert re.search(r'class="field-categories_display">HVAC, Electrical<', listing)
    assert "[&#x27;hvac&#x27;" not in listing and "['hvac'" not in listing


def test_a_team_with_no_category_ticked_is_refused_naming_the_field(staff):
    response = staff.post(ADD, team_form())

    assert response.status_code == 200
    page = response.content.decode()
    assert "Tick at least one category" in page
    # The message sits in the categories row, so staff see which field to fix.
    row = re.search(r'<div class="form-row errors field-categories">.*?</fieldset>', page, re.S)
    assert row and "Tick at least one category" in row.group(0)
    assert not Team.objects.filter(code="night-shift").exists()


def test_an_unknown_category_is_refused(staff):
    response = staff.post(ADD, team_form(categories=["hvac", "roofing"]))

    assert response.status_code == 200
    assert "roofing is not one of the available choices" in response.content.decode()
    assert not Team.objects.filter(code="night-shift").exists()


def test_the_change_page_shows_a_checkbox_per_category_with_the_teams_ticked(staff):
    team = Team.objects.create(code="wet-work", name="Wet work", categories=["plumbing"])

    page = staff.get(f"/admin/orders/team/{team.pk}/change/").content.decode()

    boxes = dict(
        re.findall(r'<input type="checkbox" name="categories" value="(\w+)"([^>]*)>', page)
    )
    assert list(boxes) == ["hvac", "electrical", "plumbing", "general"]
    assert [c for c, attrs in boxes.items() if "checked" in attrs] == ["plumbing"]
    for label in ("HVAC", "Electrical", "Plumbing", "General"):
        assert re.search(rf"<input [^>]*name=\"categories\"[^>]*>\s*{label}</label>", page)
    assert '<textarea name="categories"' not in page


def test_unticking_a_category_on_the_change_page_removes_it(staff):
    team = Team.objects.create(
        code="wet-work", name="Wet work", categories=["plumbing", "general"], active=False
    )

    response = staff.post(
        f"/admin/orders/team/{team.pk}/change/",
        team_form(code="wet-work", name="Wet work", active=None, categories=["general"]),
    )

    assert response.status_code == 302
    team.refresh_from_db()
    assert team.categories == ["general"]

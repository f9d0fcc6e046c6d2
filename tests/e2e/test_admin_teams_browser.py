"""A dispatcher sets a team's categories in a real browser by ticking boxes, and the admin's
pages name an icon that is served (no /favicon.ico 404 in every log)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Response, expect

from .conftest import ARTIFACTS
from .test_admin_browser import policy_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
TEAMS = "/admin/orders/team/"
#: Teams and technicians are not the dispatcher's by default; given for this module only.
TEAM_PERMISSIONS = ("view_team", "change_team", "view_technician", "change_technician")


@pytest.fixture(scope="module")
def team_editor(staff_logins, django_db_blocker):
    """The session's dispatcher, allowed to edit teams while this module runs."""
    from django.contrib.auth.models import Permission, User

    login = staff_logins["dispatcher"]
    with django_db_blocker.unblock():
        user = User.objects.get(username=login.username)
        granted = Permission.objects.filter(
            content_type__app_label="orders", codename__in=TEAM_PERMISSIONS
        )
        user.user_permissions.add(*granted)
    yield login
    with django_db_blocker.unblock():
        user.user_permissions.remove(*granted)


@pytest.fixture(scope="module")
def spare_teams(portal, django_db_blocker) -> Iterator[dict[str, object]]:
    """A team per test, each serving "general" with one technician, committed before the
    tests' own transactions (a write in one would hold SQLite's lock from the web process).
    Inactive, so the categories ticked here never draw the other tests' orders to them."""
    from orders.models import Team, Technician

    teams = {}
    with django_db_blocker.unblock():
        for purpose in ("tick", "none"):
            team, _ = Team.objects.update_or_create(
                code=f"e2e-teams-{purpose}",
                defaults={
                    "name": f"Browser test crew ({purpose})",
                    "categories": ["general"],
                    "active": False,
                },
            )
            Technician.objects.update_or_create(
                code=f"e2e-teams-{purpose}-eva",
                defaults={"team": team, "name": "Eva Browser", "phone": "+1 555 0150"},
            )
            teams[purpose] = team
    yield teams
    with django_db_blocker.unblock():
        Technician.objects.filter(team__in=teams.values()).delete()
        Team.objects.filter(pk__in=[t.pk for t in teams.values()]).delete()


def failed_responses(page: Page) -> list[str]:
    """Every response of 400 or more the page gets from now on (an icon's 404 included)."""
    failed: list[str] = []

    def note(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", note)
    return failed


def test_a_dispatcher_ticks_a_teams_categories_and_sees_them_listed(
    page_for, team_editor, spare_teams
):
    team = spare_teams["tick"]
    page = page_for(team_editor)
    failed = failed_responses(page)
    violations = policy_violations(page)
    page.goto(f"{TEAMS}{team.pk}/change/")

    categories = page.locator("#id_categories")
    expect(categories.locator("input[type=checkbox]")).to_have_count(4)
    expect(page.get_by_label("General", exact=True)).to_be_checked()
    expect(page.locator("textarea[name=categories]")).to_have_count(0)
    expect(page.locator(".inline-group")).to_contain_text("Eva Browser")
    page.get_by_label("HVAC", exact=True).check()
    page.get_by_label("Electrical", exact=True).check()
    page.get_by_label("General", exact=True).uncheck()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-team-categories.png"), full_page=True)
    page.click("input[name=_save]")

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    row = page.locator("#result_list tr", has_text=team.code)
    expect(row.locator("td.field-categories_display")).to_have_text("HVAC, Electrical")
    expect(row).not_to_contain_text("[")
    assert failed == [] and violations == []


def test_a_team_saved_with_no_category_is_refused_with_the_reason(
    page_for, team_editor, spare_teams
):
    team = spare_teams["none"]
    page = page_for(team_editor)
    page.goto(f"{TEAMS}{team.pk}/change/")

    page.get_by_label("General", exact=True).uncheck()
    page.click("input[name=_save]")

    error = page.locator(".field-categories .errorlist")
    expect(error).to_have_text(re.compile("Tick at least one category"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-team-no-category.png"), full_page=True)
    page.goto(TEAMS)
    row = page.locator("#result_list tr", has_text=team.code)
    expect(row.locator("td.field-categories_display")).to_have_text("General")


def test_admin_pages_name_an_icon_that_is_served(page_for, team_editor):
    page = page_for(team_editor)
    failed = failed_responses(page)

    page.goto(TEAMS)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon and icon.startswith("/static/portal/favicon.")
    served = page.request.get(icon)
    assert served.status == 200 and served.headers["content-type"] == "image/svg+xml"
    # Asked for by name, as browsers do on pages that link none (the API's JSON).
    by_default = page.request.get("/favicon.ico")
    assert by_default.status == 200 and by_default.url.endswith(icon)
    assert b"<svg" in by_default.body()
    page.goto("/v1/docs")
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", icon)
    page.wait_for_load_state("networkidle")
    assert failed == []

"""``make run`` seeds a technician in each team, so the order page's technician and visit
panels have someone to offer at once; a second ``make run`` adds nobody and keeps what staff
changed."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

from django.core.management import call_command

from orders.models import Team, Technician
from orders.team_directory import DjangoTeamDirectory
from portal.devstack import SEED_TECHNICIANS, seed_technicians


def run_the_make_run_steps() -> str:
    """The two seeding steps as ``make run`` runs them (``seed_teams``, then its shell line)."""
    call_command("seed_teams", stdout=io.StringIO())
    out = io.StringIO()
    with redirect_stdout(out):
        call_command("shell", "--no-imports", "-c", SEED_TECHNICIANS)
    return out.getvalue()


def test_make_run_gives_every_team_one_active_technician_the_order_page_can_send(db):
    Team.objects.create(code="night-shift", name="Night shift", categories=["hvac"])

    output = run_the_make_run_steps()

    teams = list(Team.objects.all())
    assert {"hvac-crew", "electrical-crew", "plumbing-crew", "general-crew", "night-shift"} <= {
        team.code for team in teams
    }
    directory = DjangoTeamDirectory()
    for team in teams:
        (member,) = team.technicians.all()
        assert member.active and member.name
        assert f"created technician {member.code}" in output
        # What the order page's technician panel checks before assigning someone.
        assert directory.technician(team.code, member.code) is not None


def test_a_second_make_run_adds_nobody_and_keeps_what_staff_changed(db):
    run_the_make_run_steps()
    hvac = Technician.objects.get(team__code="hvac-crew")
    hvac.name, hvac.active = "Renamed by staff", False
    hvac.save()
    before = sorted(Technician.objects.values_list("code", "name", "active"))

    output = run_the_make_run_steps()

    assert sorted(Technician.objects.values_list("code", "name", "active")) == before
    assert "created" not in output
    assert "kept the technicians of team hvac-crew" in output


def test_a_team_added_later_gets_its_technician_on_the_next_run(db):
    run_the_make_run_steps()
    Team.objects.create(code="roof-crew", name="Roof crew", categories=["general"])

    created = seed_technicians(write=lambda line: None)

    assert [(t.team.code, t.active) for t in created] == [("roof-crew", True)]
    assert Technician.objects.filter(team__code="roof-crew").count() == 1

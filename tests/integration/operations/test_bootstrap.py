"""Day one's `bootstrap`: staff groups, the first superuser, teams, an integrator's first key
and a readiness check; run again, it only reports what it kept."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from integrators.models import Integrator
from integrators.services import authenticate
from orders.models import Team


def bootstrap(*args: str) -> str:
    out = io.StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_bootstrap_sets_up_day_one_and_is_safe_to_run_again(aws, monkeypatch):
    Team.objects.all().delete()
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-for-ops")

    first = bootstrap("--teams", "--integrator", "Boot Corp")

    assert "created group Dispatchers" in first and "created superuser ops" in first
    assert User.objects.get(username="ops").is_superuser
    dispatchers = Group.objects.get(name="Dispatchers")
    assert dispatchers.permissions.filter(codename="move_workorder").exists()
    assert Team.objects.count() == 4
    key = first.strip().splitlines()[-1].split(": ")[-1]
    assert authenticate(key).integrator == "boot-corp"
    assert "ok   queue received" in first and "FAIL" not in first

    second = bootstrap("--teams", "--integrator", "Boot Corp")

    assert "kept group Dispatchers" in second and "kept the superuser(s)" in second
    assert "kept the teams: 4 exist" in second
    assert "kept integrator boot-corp: 1 working key(s)" in second
    assert "shown once" not in second  # no second key
    assert Integrator.objects.get(slug="boot-corp").api_keys.count() == 1

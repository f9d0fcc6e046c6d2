"""API keys: issued once, stored hashed, revocable, tied to an active integrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from integrators import services as integrators
from integrators.models import ApiKey


@pytest.fixture
def acme(db):
    integrator, _ = integrators.create_integrator("Acme Facilities")
    return integrator


def test_a_key_authenticates_its_integrator_and_only_its_hash_is_stored(acme):
    api_key, key = integrators.issue_key(acme, label="prod")
    assert key.startswith(f"wop_{api_key.prefix}_")
    assert key not in (api_key.digest, api_key.prefix)
    assert ApiKey.objects.get(pk=api_key.pk).digest == integrators.digest(key)
    caller = integrators.authenticate(key)
    assert (caller.integrator, caller.key_prefix) == ("acme-facilities", api_key.prefix)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),
        lambda k: k.replace("wop_", "xyz_"),
        lambda k: "",
        lambda k: "wop_",
    ],
)
def test_a_wrong_key_authenticates_nobody(acme, tamper):
    _, key = integrators.issue_key(acme)
    assert integrators.authenticate(tamper(key)) is None


def test_revoked_keys_and_inactive_integrators_are_refused(acme):
    first, first_key = integrators.issue_key(acme)
    integrators.revoke_key(first)
    assert integrators.authenticate(first_key) is None

    _, second_key = integrators.issue_key(acme)
    acme.active = False
    acme.save()
    assert integrators.authenticate(second_key) is None


def test_rotation_revokes_the_other_keys(acme):
    _, old = integrators.issue_key(acme)
    _, new = integrators.rotate_keys(acme)
    assert integrators.authenticate(old) is None
    assert integrators.authenticate(new).integrator == acme.slug


def test_create_integrator_command_reuses_the_integrator_and_prints_the_key_last(db, capsys):
    call_command("create_integrator", "Globex Corp")
    call_command("create_integrator", "Globex Corp")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[0] != out[1]
    assert all(integrators.authenticate(k).integrator == "globex-corp" for k in out)


def test_only_a_keys_prefix_may_be_logged(acme):
    api_key, key = integrators.issue_key(acme)
    label = integrators.key_label(key)
    assert api_key.prefix in label
    assert key.split("_", 2)[2] not in label
    assert integrators.key_label("Bearer nonsense") == "(not a portal key)"


def test_a_rotation_with_a_grace_period_keeps_the_old_key_working_until_it_ends(acme):
    old_key_row, old = integrators.issue_key(acme)
    _, new = integrators.rotate_keys(acme, grace=timedelta(hours=24))

    assert integrators.authenticate(old).integrator == acme.slug  # still, for a day
    assert integrators.authenticate(new).integrator == acme.slug
    assert integrators.live_keys(acme).count() == 2

    old_key_row.refresh_from_db()
    old_key_row.revoked_at = timezone.now() - timedelta(seconds=1)  # the day is over
    old_key_row.save()
    assert integrators.authenticate(old) is None
    assert integrators.live_keys(acme).count() == 1


def test_staff_confirm_a_rotation_and_choose_how_long_the_old_keys_work(acme, admin_client):
    _, old = integrators.issue_key(acme)
    changelist = reverse("admin:integrators_integrator_changelist")
    chosen = {"action": "rotate_keys", "_selected_action": [acme.pk]}

    asked = admin_client.post(changelist, chosen)

    assert asked.status_code == 200 and 'id="rotate-confirm"' in asked.content.decode()
    assert integrators.live_keys(acme).count() == 1  # nothing rotated yet

    done = admin_client.post(changelist, {**chosen, "confirm": "yes", "grace": "24"}, follow=True)

    shown = [str(m) for m in done.context["messages"]]
    assert any("New API key for" in m for m in shown)
    assert integrators.authenticate(old).integrator == acme.slug
    revoked_at = acme.api_keys.get(label="").revoked_at
    assert timedelta(hours=23) < revoked_at - timezone.now() <= timedelta(hours=24)

"""API keys: issued once, stored hashed, revocable, tied to an active integrator."""

from __future__ import annotations

import pytest
from django.core.management import call_command

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

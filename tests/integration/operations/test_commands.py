"""Staff logins: make run's local superuser, and Django's own createsuperuser still works."""

from __future__ import annotations

import io

from django.contrib.auth import authenticate
from django.core.management import call_command


def test_the_local_superuser_keeps_its_password_between_runs(db, settings, tmp_path):
    settings.STATE_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()
    call_command("local_superuser", stdout=first)
    call_command("local_superuser", stdout=second)
    username, password = first.getvalue().split()
    assert second.getvalue().split() == [username, password]
    user = authenticate(username=username, password=password)
    assert user is not None and user.is_superuser and user.is_staff
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0


def test_createsuperuser_noinput_with_environment_variables_still_works(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ops@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-for-ops")
    call_command("createsuperuser", interactive=False, stdout=io.StringIO())
    assert authenticate(username="ops", password="a-long-password-for-ops").is_superuser


def test_failed_admin_logins_are_throttled(db, client, settings):
    from django.contrib.auth.models import User

    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    User.objects.create_user("clerk", password="right-password-123", is_staff=True)
    for _ in range(3):
        bad = client.post("/admin/login/", {"username": "clerk", "password": "wrong"})
        assert bad.status_code == 200  # the usual "please enter the correct..." form
    locked = client.post("/admin/login/", {"username": "clerk", "password": "right-password-123"})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many failed logins" in locked.content.decode()
    # Another user from the same address is not locked out by the clerk's mistakes.
    User.objects.create_user("lead", password="right-password-456", is_staff=True)
    ok = client.post("/admin/login/", {"username": "lead", "password": "right-password-456"})
    assert ok.status_code == 302

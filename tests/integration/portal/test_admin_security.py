"""The admin's defences: redirects stay on site, and failed logins are counted in the database."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

LIST = reverse("admin:orders_workorder_changelist")
BULK = reverse("admin:orders_workorder_bulk")


@pytest.fixture
def dispatcher(db) -> Client:
    user = User.objects.create_user("dispatcher", password="pw-not-used", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="orders", codename__in=["view_workorder", "move_workorder"]
        )
    )
    client = Client()
    client.force_login(user)
    return client


# -- the bulk view's "back" link -------------------------------------------------------------


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "http://testserver.evil.example/admin/",
        "javascript:alert(1)",
    ],
)
def test_a_bulk_move_never_redirects_off_site(dispatcher, back):
    # An invalid form (no orders selected) answers with a redirect to "back" at once.
    response = dispatcher.post(BULK, {"to": "cancelled", "back": back})
    assert response.status_code == 302
    assert response["Location"] == LIST


def test_a_bulk_move_over_https_never_drops_to_plain_http(dispatcher):
    back = "http://testserver/admin/"
    response = dispatcher.post(BULK, {"to": "cancelled", "back": back}, secure=True)
    assert response["Location"] == LIST


def test_a_bulk_move_returns_to_the_same_site_page_it_came_from(dispatcher):
    back = f"{LIST}?status=received&q=boiler"
    response = dispatcher.post(BULK, {"to": "cancelled", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    # A GET (a link followed by mistake) goes to the list, never to a "back" it was given.
    assert dispatcher.get(BULK, {"back": "https://evil.example/"})["Location"] == LIST


# -- failed logins ---------------------------------------------------------------------------

LOGIN = "/admin/login/"
LOAD_BALANCER = "10.0.0.1"


@pytest.fixture
def clerk(db, settings):
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 600
    return User.objects.create_user("clerk", password="right-password-123", is_staff=True)


def attempt(password: str, *, address: str = "127.0.0.1", forwarded_for: str | None = None):
    """One login attempt from a fresh client, as if each came through another web process."""
    extra = {"REMOTE_ADDR": address}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post(LOGIN, {"username": "clerk", "password": password}, **extra)


def test_a_lockout_holds_across_processes_and_restarts(clerk):
    from django.core.cache import cache

    for _ in range(3):
        assert attempt("wrong").status_code == 200
        cache.clear()  # another process, or a restart: nothing shared in memory
    locked = attempt("right-password-123")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 600
    assert "Too many failed logins" in locked.content.decode()


def test_a_success_before_the_limit_clears_the_count(clerk):
    for _ in range(2):
        attempt("wrong")
    assert attempt("right-password-123").status_code == 302
    for _ in range(2):
        attempt("wrong")
    assert attempt("right-password-123").status_code == 302


def test_a_lockout_ends_after_its_time(clerk, settings):
    from datetime import timedelta

    from operations.models import LoginFailure

    for _ in range(3):
        attempt("wrong")
    assert attempt("right-password-123").status_code == 429
    # Time passes: move the row's clock back instead of waiting.
    earlier = timedelta(seconds=settings.ADMIN_LOGIN_LOCKOUT_SECONDS + 1)
    for row in LoginFailure.objects.all():
        LoginFailure.objects.filter(pk=row.pk).update(
            window_started=row.window_started - earlier,
            # The address's own row counts the failures too, without a lockout yet.
            locked_until=row.locked_until and row.locked_until - earlier,
            expires_at=row.expires_at - earlier,
        )
    assert attempt("right-password-123").status_code == 302
    assert not LoginFailure.objects.exists()  # cleaned up on success


def test_behind_a_trusted_proxy_a_lockout_is_per_client_address(clerk, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        attempt("wrong", address=LOAD_BALANCER, forwarded_for="203.0.113.5")
    locked = attempt("right-password-123", address=LOAD_BALANCER, forwarded_for="203.0.113.5")
    assert locked.status_code == 429
    # The same user, through the same load balancer, from another address is not locked out.
    other = attempt("right-password-123", address=LOAD_BALANCER, forwarded_for="198.51.100.7")
    assert other.status_code == 302


def test_a_client_cannot_escape_a_lockout_by_writing_its_own_forwarded_for(clerk, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The load balancer appends the address it saw; what the client sent before it is ignored.
    for spoofed in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        attempt("wrong", address=LOAD_BALANCER, forwarded_for=f"{spoofed}, 203.0.113.5")
    locked = attempt(
        "right-password-123", address=LOAD_BALANCER, forwarded_for="9.9.9.9, 203.0.113.5"
    )
    assert locked.status_code == 429


def test_without_a_trusted_proxy_forwarded_for_is_ignored(clerk, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for spoofed in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        attempt("wrong", address="203.0.113.5", forwarded_for=spoofed)
    locked = attempt("right-password-123", address="203.0.113.5", forwarded_for="4.4.4.4")
    assert locked.status_code == 429


# -- failed logins per client address, whatever the user name --------------------------------


def spray(user_name: str, password: str, *, address: str = "203.0.113.9"):
    """One login attempt for any user name from a fresh client."""
    return Client().post(LOGIN, {"username": user_name, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def per_address(clerk, settings):
    settings.ADMIN_LOGIN_ADDRESS_MAX_FAILURES = 10
    return settings


def test_one_password_across_many_user_names_locks_the_address_out(per_address):
    statuses = [spray(f"user{n}", "Summer2024!").status_code for n in range(30)]
    assert statuses == [200] * 10 + [429] * 20
    # Even the right password of a real user waits, from that address...
    locked = spray("clerk", "right-password-123")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 600
    # ...while staff elsewhere log in as usual.
    assert spray("clerk", "right-password-123", address="198.51.100.20").status_code == 302


def test_a_successful_login_does_not_reset_the_address_count(per_address):
    # Otherwise one valid account would let an address try other user names for ever.
    for n in range(9):
        spray(f"user{n}", "guess")
    assert spray("clerk", "right-password-123").status_code == 302
    assert spray("user9", "guess").status_code == 200  # the 10th failure
    assert spray("user10", "guess").status_code == 429


def test_a_locked_address_is_refused_before_any_password_is_checked(per_address):
    from unittest import mock

    for n in range(10):
        spray(f"user{n}", "guess")
    with mock.patch("django.contrib.auth.forms.authenticate") as check_password:
        assert spray("clerk", "right-password-123").status_code == 429
    check_password.assert_not_called()

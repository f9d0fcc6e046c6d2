"""Staff sessions end after ADMIN_IDLE_TIMEOUT_SECONDS without a request; activity extends them.

Time is moved by rewriting the session's last-activity stamp, never by waiting.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.test import Client

INDEX = "/admin/"
LOGIN = "/admin/login/"
TIMEOUT = 3600


@pytest.fixture
def staff(db, settings) -> Client:
    settings.ADMIN_IDLE_TIMEOUT_SECONDS = TIMEOUT
    # No order permissions: the index has no dashboard to read from AWS.
    user = User.objects.create_user("night-shift", password="pw-not-used", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def last_seen(client: Client, seconds_ago: float) -> None:
    """Pretend the session's last request was that long ago."""
    from portal.admin_site import LAST_ACTIVITY

    session = client.session
    session[LAST_ACTIVITY] = int(time.time() - seconds_ago)
    session.save()


def test_a_session_idle_for_longer_than_the_timeout_is_logged_out(staff):
    assert staff.get(INDEX).status_code == 200
    last_seen(staff, TIMEOUT + 5)
    response = staff.get(INDEX)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={INDEX}"
    assert SESSION_KEY not in staff.session  # logged out, not only redirected
    assert staff.get(INDEX)["Location"].startswith(LOGIN)
    # The login page says why.
    page = staff.get(response["Location"])
    assert "inactivity" in page.content.decode()


def test_a_session_used_within_the_timeout_stays_and_is_extended(staff):
    from portal.admin_site import LAST_ACTIVITY

    last_seen(staff, TIMEOUT - 120)
    assert staff.get(INDEX).status_code == 200
    assert time.time() - staff.session[LAST_ACTIVITY] < 60  # the clock starts again


def test_the_last_activity_is_written_at_most_once_a_minute(staff):
    from portal.admin_site import LAST_ACTIVITY

    last_seen(staff, 10)
    stamp = staff.session[LAST_ACTIVITY]
    assert staff.get(INDEX).status_code == 200
    assert staff.session[LAST_ACTIVITY] == stamp  # no session write for this request


def test_the_session_cookie_lasts_no_longer_than_the_idle_timeout(settings):
    # A session left alone also expires in the store and in the browser, not after 14 days.
    assert settings.SESSION_COOKIE_AGE <= settings.ADMIN_IDLE_TIMEOUT_SECONDS + 60
    assert settings.ADMIN_IDLE_TIMEOUT_SECONDS == 8 * 3600  # the default

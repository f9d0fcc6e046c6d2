"""Failed API authentication is throttled per client address, before any database look-up.

Each test uses addresses of its own (documentation ranges) and clears the throttle's cache
before and after, so no count leaks into another test.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.integration.conftest import client_for, make_integrator

ATTACKER = "203.0.113.66"
NEIGHBOUR = "198.51.100.7"
LOAD_BALANCER = "10.0.0.1"


@pytest.fixture
def throttle(db, settings):
    settings.API_AUTH_MAX_FAILURES = 5
    settings.API_AUTH_FAILURE_WINDOW_SECONDS = 300
    cache.clear()
    yield settings
    cache.clear()


def bad_key(n: int) -> str:
    """A well-formed key (scheme, 8-character prefix, secret) that no integrator holds."""
    return f"wop_{n:08d}_not-a-real-secret-{n}"


def call(key: str, *, address: str = ATTACKER, **extra):
    """One API request from a fresh client, counting the database queries it made."""
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", REMOTE_ADDR=address, **extra)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/v1/orders")
    return response, len(queries.captured_queries)


def test_a_hundred_bad_keys_cost_only_the_allowed_look_ups(throttle):
    results = [call(bad_key(n)) for n in range(100)]
    statuses = [response.status_code for response, _ in results]
    assert statuses == [401] * 5 + [429] * 95
    assert all(queries > 0 for _, queries in results[:5])  # each looked its key up
    assert all(queries == 0 for _, queries in results[5:])  # the throttled ones never did
    limited = results[-1][0]
    assert limited["Content-Type"] == "application/problem+json"
    # The sliding window weighs the previous window's count: five failures early in a window
    # keep weighing into the next one until its share drops below the limit, so the wait can
    # reach a window and a fifth (300 + 300/5 s), depending on when in the window they fell.
    assert 0 < int(limited["Retry-After"]) <= 300 + 300 // 5
    body = limited.json()
    assert body["status"] == 429 and body["type"].endswith(":rate-limited")
    assert "wop_" not in limited.content.decode()  # the key is never echoed


def test_another_address_still_gets_its_own_attempts(throttle):
    for n in range(5):
        call(bad_key(n))
    assert call(bad_key(99))[0].status_code == 429
    response, queries = call(bad_key(100), address=NEIGHBOUR)
    assert response.status_code == 401 and queries > 0


def test_malformed_headers_are_refused_without_counting(throttle):
    # They never reach the database, so they cost nothing worth throttling.
    for header in ["Token abc", "Bearer", "Bearer wop_short_x", "Basic dXNlcjpwYXNz"] * 5:
        response = Client(HTTP_AUTHORIZATION=header, REMOTE_ADDR=ATTACKER).get("/v1/orders")
        assert response.status_code == 401
    assert call(bad_key(1))[0].status_code == 401


def test_a_key_that_worked_lately_still_works_from_a_throttled_address(aws, throttle):
    # An integrator behind the same address (a NAT, or its own job with a revoked key) keeps
    # working with the key it used before the address was throttled.
    good = make_integrator("Shared NAT")
    assert client_for(good).get("/v1/orders", REMOTE_ADDR=ATTACKER).status_code == 200
    for n in range(5):
        call(bad_key(n))
    assert call(bad_key(99))[0].status_code == 429
    assert client_for(good).get("/v1/orders", REMOTE_ADDR=ATTACKER).status_code == 200


def test_the_throttle_lifts_once_the_window_has_passed(throttle, monkeypatch):
    import portal.throttle

    start = 1_000_000.0
    monkeypatch.setattr(portal.throttle, "clock", lambda: start)
    for n in range(5):
        call(bad_key(n))
    response = call(bad_key(99))[0]
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    monkeypatch.setattr(portal.throttle, "clock", lambda: start + wait - 1)
    assert call(bad_key(98))[0].status_code == 429
    monkeypatch.setattr(portal.throttle, "clock", lambda: start + wait)
    response, queries = call(bad_key(97))
    assert response.status_code == 401 and queries > 0


def test_behind_a_trusted_proxy_the_client_address_counts(throttle):
    throttle.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        call(bad_key(n), address=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, {ATTACKER}")
    assert (
        call(bad_key(9), address=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=ATTACKER)[0].status_code == 429
    )
    other = call(bad_key(10), address=LOAD_BALANCER, HTTP_X_FORWARDED_FOR=NEIGHBOUR)[0]
    assert other.status_code == 401

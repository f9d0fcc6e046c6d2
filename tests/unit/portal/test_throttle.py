"""The sliding-window counters behind the API's limits (portal/throttle.py), on LocMemCache."""

from __future__ import annotations

import runpy
import threading

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from portal import throttle
from portal.throttle import SlidingWindow, parse_rate
from tests.support import ROOT

SETTINGS = str(ROOT / "portal" / "settings.py")

PERIOD = 60
#: The start of a window, so that "elapsed" is exact in each test.
T0 = 1_000_020.0 - 1_000_020.0 % PERIOD


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("1200/minute", (1200, 60)), ("5/s", (5, 1)), ("10/hour", (10, 3600)), ("1/day", (1, 86400))],
)
def test_rates_use_drf_syntax(rate, expected):
    assert parse_rate(rate) == expected


@pytest.mark.parametrize("rate", ["", "abc", "10", "10/fortnight", "0/minute", "-1/minute"])
def test_a_bad_rate_names_itself(rate):
    with pytest.raises(ImproperlyConfigured, match="rate"):
        parse_rate(rate)


def test_take_allows_exactly_the_limit_then_says_how_long_to_wait():
    window = SlidingWindow("t", limit=3, period=PERIOD)
    assert [window.take("a", now=T0 + 10) for _ in range(3)] == [0, 0, 0]
    # Full until the window ends, then the previous window still weighs: 3 * (60 - t) / 60
    # must drop to 2 for one more, i.e. t >= 20 s into the next window.
    assert window.take("a", now=T0 + 10) == 50 + 20
    assert window.take("b", now=T0 + 10) == 0  # another identity has its own budget


def test_refused_requests_are_not_counted():
    window = SlidingWindow("t", limit=2, period=PERIOD)
    window.take("a", now=T0)
    window.take("a", now=T0)
    for _ in range(50):
        assert window.take("a", now=T0 + 1) > 0
    # A client that waited as told gets in: the refusals did not push the time further.
    wait = window.take("a", now=T0 + 1)
    assert window.take("a", now=T0 + 1 + wait) == 0


def test_the_window_slides_instead_of_resetting_at_its_boundary():
    window = SlidingWindow("t", limit=10, period=PERIOD)
    for _ in range(10):
        window.take("a", now=T0 + 59)
    # Fixed windows would allow 10 more at once here: a burst of 20 within two seconds.
    assert window.take("a", now=T0 + PERIOD) > 0
    # Half-way through the next window half of the last one still counts: room for 5.
    allowed = [window.take("a", now=T0 + PERIOD + 30) for _ in range(10)]
    assert allowed.count(0) == 5


def test_both_windows_of_an_identity_share_one_redis_cluster_slot():
    """ElastiCache Serverless is a Redis cluster: one MGET must not span two slots."""
    window = SlidingWindow("t", limit=3, period=PERIOD)
    current, previous, _ = window._keys("203.0.113.9", T0 + 5)
    assert current != previous

    def hash_tag(key: str) -> str:
        return key[key.index("{") + 1 : key.index("}")]

    assert hash_tag(current) == hash_tag(previous)
    assert "203.0.113.9" not in current  # hashed: no address in the store
    assert hash_tag(current) != hash_tag(window._keys("203.0.113.10", T0 + 5)[0])


def test_counting_failures_and_waiting_on_them():
    window = SlidingWindow("t", limit=3, period=PERIOD)
    for _ in range(3):
        assert window.wait("x", now=T0) == 0
        window.add("x", now=T0)
    assert window.wait("x", now=T0) == 60 + 20  # as take's, without counting anything
    assert window.wait("x", now=T0 + 80) == 0


def test_concurrent_takes_never_exceed_the_limit():
    window = SlidingWindow("t", limit=50, period=3600)
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait(timeout=10)
        for _ in range(25):
            wait = window.take("shared")
            with lock:
                results.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 200
    assert results.count(0) == 50


class BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail


def test_an_unreachable_cache_lets_requests_through_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(throttle, "_cache", lambda: BrokenCache())
    monkeypatch.setattr(throttle, "_warned_at", None)
    window = SlidingWindow("t", limit=1, period=PERIOD)
    assert window.take("a") == 0
    assert window.wait("a") == 0
    window.add("a")  # no exception either
    warnings = [r for r in caplog.records if r.name == "portal.throttle"]
    assert len(warnings) == 1  # once, not once per request
    assert "ConnectionError" in warnings[0].getMessage()


# -- settings -------------------------------------------------------------------------------


def test_locally_the_counters_need_no_redis(monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)
    loaded = runpy.run_path(SETTINGS)
    assert loaded["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")


def test_a_redis_cache_url_gets_short_timeouts_unless_it_names_its_own(monkeypatch):
    """A Redis that stopped answering must not hold every API request for the OS's TCP
    timeout: the limits give up quickly and let the request through."""
    monkeypatch.setenv("CACHE_URL", "rediss://cache.internal:6379/0")
    config = runpy.run_path(SETTINGS)["CACHES"]["default"]
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "rediss://cache.internal:6379/0"
    assert 0 < config["OPTIONS"]["socket_connect_timeout"] <= 1
    assert 0 < config["OPTIONS"]["socket_timeout"] <= 1
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/0?socket_timeout=2")
    assert runpy.run_path(SETTINGS)["CACHES"]["default"]["OPTIONS"]["socket_timeout"] == 2


@pytest.mark.parametrize(
    "name",
    [
        "API_AUTH_MAX_FAILURES",
        "API_AUTH_FAILURE_WINDOW_SECONDS",
        "ADMIN_LOGIN_ADDRESS_MAX_FAILURES",
        "ADMIN_IDLE_TIMEOUT_SECONDS",
    ],
)
def test_the_new_limits_are_positive(monkeypatch, name):
    monkeypatch.setenv(name, "0")
    with pytest.raises(ImproperlyConfigured, match=f"{name}=0 is out of range: allowed at least 1"):
        runpy.run_path(SETTINGS)


def test_a_bad_api_rate_limit_stops_the_start(monkeypatch):
    monkeypatch.setenv("API_RATE_LIMIT", "1200/fortnight")
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMIT"):
        runpy.run_path(SETTINGS)

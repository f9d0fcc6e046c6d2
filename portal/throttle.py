"""Counts in the shared cache: how often something happened lately, for the API's limits.

Every web process must see the same counts, or each limit is multiplied by the number of
processes. So the counters live in Django's cache, which ``CACHE_URL`` points at a shared
Redis in production (the Helm chart and the ECS stack start one); the local default,
LocMemCache, counts per process, which is right for ``make run`` and the tests.

A count is one atomic increment where the store has one: ``cache.add`` creates the key,
``cache.incr`` adds to it (Redis INCR, memcached incr, a lock in LocMemCache), so concurrent
requests in several processes never lose one, as a read-modify-write of a list (DRF's
``SimpleRateThrottle``) does.

Windows slide: the previous fixed window's count, weighted by how much of it the sliding
window still covers, plus the current one's; two keys per identity, each kept two periods. A
client cannot send twice the limit across a window boundary, as with fixed windows, and
``Retry-After`` says when one more request fits.

A cache that fails lets requests through (logged at most once a minute per process): a Redis
outage must not take the API down with it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches

from portal.settings_limits import parse_rate

__all__ = ["SlidingWindow", "parse_rate"]

log = logging.getLogger(__name__)

#: The time counters are read at; tests move it instead of waiting.
clock = time.time
#: How often an unreachable cache is logged, per process.
WARN_EVERY_SECONDS = 60.0
_warned_at: float | None = None


def _cache() -> Any:
    return caches["default"]


def _unavailable(error: Exception) -> None:
    """Log that the limits are off, at most once a minute; the type only (a message may name
    the cache's address)."""
    global _warned_at
    now = time.monotonic()
    if _warned_at is None or now - _warned_at >= WARN_EVERY_SECONDS:
        _warned_at = now
        log.warning(
            "the throttle cache is unavailable (%s): API limits are not enforced meanwhile",
            type(error).__name__,
        )


def _increment(key: str, timeout: int) -> int:
    """Add one to ``key`` atomically; a missing key is created first, with its expiry (by one
    process only: ``add`` is Redis's SET NX), so the usual case costs the increment alone."""
    cache = _cache()
    try:
        return cache.incr(key)
    except ValueError:  # the window's first event (or the key was evicted)
        cache.add(key, 0, timeout)
        return cache.incr(key)


@dataclass(frozen=True)
class SlidingWindow:
    """At most ``limit`` events per ``period`` seconds per identity (an integrator, an
    address), under ``scope`` in the cache."""

    scope: str
    limit: int
    period: int

    def _keys(self, ident: str, now: float) -> tuple[str, str, float]:
        """The current and previous windows' keys, and the time elapsed in the current one.

        The identity is hashed (keys stay short and store no address) and braced: a Redis
        hash tag, so both windows' keys live in one slot and can be read with one MGET on a
        cluster too (ElastiCache Serverless is one, and refuses cross-slot commands)."""
        index, elapsed = divmod(now, self.period)
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        base = f"throttle:{self.scope}:{self.period}:{{{digest}}}:"
        return f"{base}{int(index)}", f"{base}{int(index) - 1}", elapsed

    def _wait(self, previous: int, current: int, elapsed: float) -> int:
        """Seconds until one more event fits: previous * (period - t) / period + current + 1
        <= limit, t seconds into the window; 0 when it fits now."""
        period, room = self.period, self.limit - 1
        remaining = period - elapsed
        if current <= room:
            if previous * remaining / period + current <= room:
                return 0
            # The previous window's share has to shrink; previous > 0 here.
            wait = remaining - (room - current) * period / previous
        else:
            # This window is full: into the next one, until this one's share has shrunk.
            wait = remaining + period - room * period / current
        return max(1, math.ceil(wait))

    def _ttl(self) -> int:
        """Long enough to be the previous window for the whole of the next one. A window's key
        is only incremented during that window, long before it expires, so an increment never
        meets an expiring key (which Redis would recreate without an expiry)."""
        return 2 * self.period + 1

    def wait(self, ident: str, now: float | None = None) -> int:
        """Seconds until one more event fits (0: now), counting nothing. One cache read."""
        now = clock() if now is None else now
        current, previous, elapsed = self._keys(ident, now)
        try:
            counts = _cache().get_many([current, previous])
        except Exception as error:  # noqa: BLE001 - whatever the cache does, requests go on
            _unavailable(error)
            return 0
        return self._wait(int(counts.get(previous, 0)), int(counts.get(current, 0)), elapsed)

    def add(self, ident: str, now: float | None = None) -> None:
        """Count one event (a failure)."""
        now = clock() if now is None else now
        current, _, _ = self._keys(ident, now)
        try:
            _increment(current, self._ttl())
        except Exception as error:  # noqa: BLE001
            _unavailable(error)

    def take(self, ident: str, now: float | None = None) -> int:
        """Count one event if it fits and return 0; otherwise count nothing and return the
        seconds until one would fit. The increment comes first, so two processes can never
        both take the last place."""
        now = clock() if now is None else now
        current, previous, elapsed = self._keys(ident, now)
        try:
            cache = _cache()
            counted = _increment(current, self._ttl())
            before = int(cache.get(previous, 0))
            wait = self._wait(before, counted - 1, elapsed)
            if wait:
                # A refused request does not count (unless its key expired meanwhile).
                with contextlib.suppress(ValueError):
                    cache.decr(current)
        except Exception as error:  # noqa: BLE001
            _unavailable(error)
            return 0
        return wait


def remember(key: str, timeout: int) -> None:
    """Set a marker (best effort)."""
    try:
        _cache().set(key, 1, timeout)
    except Exception as error:  # noqa: BLE001
        _unavailable(error)


def remembered(key: str) -> bool:
    """Whether a marker is set; False when the cache is unreachable."""
    try:
        return _cache().get(key) is not None
    except Exception as error:  # noqa: BLE001
        _unavailable(error)
        return False


def forget(key: str) -> None:
    """Remove a marker (best effort)."""
    try:
        _cache().delete(key)
    except Exception as error:  # noqa: BLE001
        _unavailable(error)

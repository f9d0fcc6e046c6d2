"""Who may call the API: integrators with a valid key, each limited to its own rate.

Both limits count in the shared cache (portal/throttle.py, ``CACHE_URL``): failed key
look-ups per client address, and requests per integrator.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from integrators.services import KEY_SCHEME, PREFIX_LENGTH, Caller, authenticate, key_label
from portal import throttle
from portal.client_address import client_address

log = logging.getLogger(__name__)

#: How long a key that authenticated stays known as good: it passes an address throttled for
#: others' failures (a NAT it shares, or its integrator's own job still holding a revoked key).
GOOD_KEY_SECONDS = 24 * 3600
#: Each process writes a good key's marker at most this often (not on every request).
GOOD_KEY_REFRESH_SECONDS = 600.0
_good_key_written: dict[str, float] = {}


class AuthenticationThrottled(exceptions.Throttled):
    """429 for an address that failed too often: answered before any database look-up."""

    default_detail = "Too many failed API key checks from this address."


def failed_lookups() -> throttle.SlidingWindow:
    """Failed key look-ups per client address (``API_AUTH_MAX_FAILURES`` per
    ``API_AUTH_FAILURE_WINDOW_SECONDS``); read per request, so that it follows the settings."""
    return throttle.SlidingWindow(
        "api-auth-failures",
        settings.API_AUTH_MAX_FAILURES,
        settings.API_AUTH_FAILURE_WINDOW_SECONDS,
    )


def is_well_formed(key: str) -> bool:
    """Whether a key has the shape of a portal key (``wop_<prefix>_<secret>``): only such a
    key is looked up (integrators.services.authenticate), so only it costs a query."""
    parts = key.split("_", 2)
    return len(parts) == 3 and parts[0] == KEY_SCHEME and len(parts[1]) == PREFIX_LENGTH


def _good_key_marker(key: str) -> str:
    """The cache key of a key's "worked lately" marker: a digest of its own, never the one
    the database holds."""
    return "throttle:good-key:" + hashlib.sha256(f"good-key|{key}".encode()).hexdigest()[:40]


def _remember_good_key(key: str) -> None:
    marker = _good_key_marker(key)
    now = time.monotonic()
    if now - _good_key_written.get(marker, -GOOD_KEY_REFRESH_SECONDS) >= GOOD_KEY_REFRESH_SECONDS:
        throttle.remember(marker, GOOD_KEY_SECONDS)
        _good_key_written[marker] = now


def _forget_good_key(key: str) -> None:
    marker = _good_key_marker(key)
    _good_key_written.pop(marker, None)
    throttle.forget(marker)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``.

    An address with ``API_AUTH_MAX_FAILURES`` failed look-ups in the window gets 429 with
    ``Retry-After`` instead of another look-up, unless its key worked lately."""

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1").split()
        if not header:
            return None
        if header[0].lower() != "bearer" or len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'."
            )
        key = header[1]
        if not is_well_formed(key):
            # Refused without a query, so not worth counting (or throttling).
            log.warning("API key refused: %s", key_label(key))
            raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")
        address = client_address(request)
        failures = failed_lookups()
        wait = failures.wait(address)
        if wait and not throttle.remembered(_good_key_marker(key)):
            log.warning("API key check throttled for this address: %s", key_label(key))
            raise AuthenticationThrottled(wait=wait)
        caller = authenticate(key)
        if caller is None:
            failures.add(address)
            _forget_good_key(key)  # revoked meanwhile: it no longer passes a throttle
            # Only the prefix is ever logged: it names the key without giving it away.
            log.warning("API key refused: %s", key_label(key))
            raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")
        _remember_good_key(key)
        return caller, caller.key_prefix

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="work-order-portal"'


class IsIntegrator(BasePermission):
    message = "An API key is required."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, Caller)


class IntegratorRateThrottle(BaseThrottle):
    """One budget per integrator, whichever of its keys it uses (``API_RATE_LIMIT``), counted
    atomically in the shared cache over a sliding window (portal/throttle.py)."""

    scope = "integrator"

    def __init__(self) -> None:
        self._wait = 0

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.user, Caller):
            return True
        # Read per request, so that it follows the settings (checked when they load).
        limit, period = throttle.parse_rate(settings.API_RATE_LIMIT, "API_RATE_LIMIT")
        window = throttle.SlidingWindow(self.scope, limit, period)
        self._wait = window.take(request.user.integrator)
        return self._wait == 0

    def wait(self) -> float | None:
        return self._wait or None

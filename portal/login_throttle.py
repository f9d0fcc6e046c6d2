"""Failed admin logins per user name and address, and per address alone, counted in the database.

The count must hold across web processes and restarts, so it cannot live in a per-process
cache. One small row per key: failures within a window of ADMIN_LOGIN_LOCKOUT_SECONDS from
the first one; enough of them lock the key for ADMIN_LOGIN_LOCKOUT_SECONDS. Two keys count
each failure: the user name with the address (ADMIN_LOGIN_MAX_FAILURES), and the address
alone (ADMIN_LOGIN_ADDRESS_MAX_FAILURES), so that one password tried across many user names
is locked out too. A successful login deletes the user name's row only (a valid account must
not reset its address's count); expired rows are deleted with each failure and success.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from operations.models import LoginFailure


def throttle_key(username: str, address: str) -> str:
    """Hashed, so that the table holds no user names or addresses."""
    return hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()


def address_key(address: str) -> str:
    """The address's own key: hashed from another text than any user name's key ("|" always
    precedes the address there, and no address contains a NUL)."""
    return hashlib.sha256(f"address\0{address}".encode()).hexdigest()


def _period() -> timedelta:
    return timedelta(seconds=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)


def locked_for(*keys: str, now: datetime | None = None) -> int:
    """Seconds the longest lockout among ``keys`` still lasts; 0 when none is locked. One query."""
    now = now or timezone.now()
    locked_until = LoginFailure.objects.filter(key__in=keys, locked_until__gt=now).aggregate(
        until=Max("locked_until")
    )["until"]
    return max(1, math.ceil((locked_until - now).total_seconds())) if locked_until else 0


def record_failure(
    key: str, now: datetime | None = None, *, max_failures: int | None = None
) -> None:
    """Count a failure for ``key``; ``max_failures`` of them (ADMIN_LOGIN_MAX_FAILURES unless
    given) lock it."""
    now = now or timezone.now()
    period = _period()
    limit = settings.ADMIN_LOGIN_MAX_FAILURES if max_failures is None else max_failures
    with transaction.atomic():
        row, _ = LoginFailure.objects.select_for_update().get_or_create(
            key=key, defaults={"window_started": now, "expires_at": now + period}
        )
        if row.expires_at <= now:  # an old window or an ended lockout: start again
            row.failures, row.window_started, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + period
        row.expires_at = max(row.window_started + period, row.locked_until or now)
        row.save()
    LoginFailure.objects.filter(expires_at__lte=now).delete()


def clear(key: str, now: datetime | None = None) -> None:
    """Forget ``key``'s failures (a successful login), and rows that expired meanwhile."""
    now = now or timezone.now()
    LoginFailure.objects.filter(Q(key=key) | Q(expires_at__lte=now)).delete()

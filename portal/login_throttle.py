"""Failed admin logins per user name and address, counted in the database.

The count must hold across web processes and restarts, so it cannot live in a per-process
cache. One small row per key: failures within a window of ADMIN_LOGIN_LOCKOUT_SECONDS from
the first one; ADMIN_LOGIN_MAX_FAILURES of them lock the key for ADMIN_LOGIN_LOCKOUT_SECONDS.
A successful login deletes the row, and expired rows are deleted as new failures come in.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from operations.models import LoginFailure


def throttle_key(username: str, address: str) -> str:
    """Hashed, so that the table holds no user names or addresses."""
    return hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()


def _period() -> timedelta:
    return timedelta(seconds=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)


def locked_for(key: str, now: datetime | None = None) -> int:
    """Seconds the key is still locked out for; 0 when it may try."""
    now = now or timezone.now()
    locked_until = (
        LoginFailure.objects.filter(key=key, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    return max(1, math.ceil((locked_until - now).total_seconds())) if locked_until else 0


def record_failure(key: str, now: datetime | None = None) -> None:
    now = now or timezone.now()
    period = _period()
    with transaction.atomic():
        row, _ = LoginFailure.objects.select_for_update().get_or_create(
            key=key, defaults={"window_started": now, "expires_at": now + period}
        )
        if row.expires_at <= now:  # an old window or an ended lockout: start again
            row.failures, row.window_started, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= settings.ADMIN_LOGIN_MAX_FAILURES:
            row.locked_until = now + period
        row.expires_at = max(row.window_started + period, row.locked_until or now)
        row.save()
    LoginFailure.objects.filter(expires_at__lte=now).delete()


def clear(key: str) -> None:
    LoginFailure.objects.filter(key=key).delete()

"""Time as every context writes it: aware UTC inside, RFC 3339 with microseconds and ``Z``
on the wire (API bodies, events, stored items), so that strings sort as times do."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

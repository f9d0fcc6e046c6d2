"""Numeric settings read from the environment and held to their hard limits.

A value outside what AWS (or the program) accepts would fail later, far from its cause, or
silently be clamped; settings.py refuses it instead, so no process (web, worker, relay,
manage.py) starts with it, and the message names the variable, its value and the range.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

Number = TypeVar("Number", int, float)


def allowed_range(low: float | None, high: float | None) -> str:
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"{low} .. {high}"


def check_range(
    name: str, value: Number, low: Number | None = None, high: Number | None = None, why: str = ""
) -> Number:
    """``value`` if ``low <= value <= high``; ImproperlyConfigured naming ``name`` otherwise."""
    if (low is not None and value < low) or (high is not None and value > high):
        reason = f" ({why})" if why else ""
        raise ImproperlyConfigured(
            f"{name}={value} is out of range: allowed {allowed_range(low, high)}{reason}."
        )
    return value


def _read(cast: Callable[..., Number], name: str, default: Number, kind: str) -> Number:
    try:
        return cast(name, default=default)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={os.environ.get(name)!r} is not {kind}.") from None


def env_int(
    env: environ.Env,
    name: str,
    default: int,
    low: int | None = None,
    high: int | None = None,
    why: str = "",
) -> int:
    """An integer setting from the environment, within ``low .. high`` (either may be open)."""
    return check_range(name, _read(env.int, name, default, "an integer"), low, high, why)


def env_float(
    env: environ.Env,
    name: str,
    default: float,
    low: float | None = None,
    high: float | None = None,
    why: str = "",
) -> float:
    """A number setting from the environment, within ``low .. high`` (either may be open)."""
    return check_range(name, _read(env.float, name, default, "a number"), low, high, why)


#: Seconds per period of a rate, by the period's first letter (DRF's rate syntax).
RATE_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str, name: str = "rate") -> tuple[int, int]:
    """``"<n>/<second|minute|hour|day>"`` (DRF's syntax) as (n, seconds); n at least 1.

    Checked when settings load, so a typo stops the start instead of failing every request."""
    count, _, period = rate.partition("/")
    seconds = RATE_PERIODS.get(period.strip()[:1].lower())
    try:
        limit = int(count)
    except ValueError:
        limit = 0
    if seconds is None or limit < 1:
        raise ImproperlyConfigured(
            f"{name}={rate!r} is not a rate like '1200/minute' (<n>/second|minute|hour|day)."
        )
    return limit, seconds

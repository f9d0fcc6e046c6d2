"""Every field of a maintenance plan and its rule: the API's create and change and the admin's
form call :func:`clean_plan`, which checks every field at once and names each bad one
(``order.title``, ``recurrence``), so a caller fixes them all in one round.

Where the plan is (``site_id`` or ``asset_id``) and whether the order template makes a valid
order are checked by the services, which know the sites and the orders' rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from facilities.domain.fields import (
    BLANK_PROBLEM,
    NULL_PROBLEM,
    REQUIRED_PROBLEM,
    Problems,
    clean_text,
    is_site_id,
)
from kernel.errors import ValidationError
from kernel.text import json_type

from .recurrence import RuleProblem, normalized

NAME_MAX = 200
LEAD_DAYS_MAX = 365
WINDOW_HOURS_MAX = 24 * 31
DEFAULT_AT = "09:00"
DEFAULT_WINDOW_HOURS = 4
TITLE_MAX = 200
DESCRIPTION_MAX = 4000
AT_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_AT = re.compile(AT_PATTERN.replace("$", r"\Z"))
_DATE = re.compile(DATE_PATTERN.replace("$", r"\Z"))

FIELDS: tuple[str, ...] = (
    "name",
    "site_id",
    "asset_id",
    "recurrence",
    "starts_on",
    "at",
    "lead_days",
    "window_hours",
    "order",
)
REQUIRED: tuple[str, ...] = ("name", "recurrence", "starts_on", "order")
ORDER_FIELDS: tuple[str, ...] = ("title", "category", "priority", "description")
#: Fixed once the plan exists: its orders and their history point at the place.
FIXED: tuple[str, ...] = ("site_id", "asset_id")


def clean_plan(raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The plan's fields that ``raw`` gives, cleaned; :class:`ValidationError` naming every
    bad one. ``partial``: a change (only what is given; ``order`` the parts it names)."""
    problems = Problems()
    if not isinstance(raw, Mapping):
        raise ValidationError({"body": [f"Must be an object, not {json_type(raw)}."]})
    problems.unknown("", raw, FIELDS)
    cleaned: dict[str, Any] = {}
    for name in FIELDS:
        if name not in raw:
            if not partial and name in REQUIRED:
                problems.add(name, REQUIRED_PROBLEM)
            continue
        value = raw[name]
        if value is None and name not in FIXED:
            problems.add(name, NULL_PROBLEM)
            continue
        if partial and name in FIXED:
            problems.add(name, "A plan stays where it was made: make a new plan instead.")
            continue
        cleaned[name] = CLEANERS[name](problems, name, value, partial)
    if not partial and not raw.get("site_id") and not raw.get("asset_id"):
        problems.add("site_id", "Give site_id or asset_id: where the work is.")
    problems.raise_if_any()
    if not partial:
        cleaned.setdefault("site_id", None)
        cleaned.setdefault("asset_id", None)
        cleaned.setdefault("at", time.fromisoformat(DEFAULT_AT))
        cleaned.setdefault("lead_days", 0)
        cleaned.setdefault("window_hours", DEFAULT_WINDOW_HOURS)
        cleaned["order"] = {"priority": "normal", "description": "", **cleaned["order"]}
    return cleaned


def _name(problems: Problems, field: str, value: Any, partial: bool) -> str:
    return clean_text(problems, field, value, limit=NAME_MAX, required=True)


def _place(problems: Problems, field: str, value: Any, partial: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_site_id(value):
        what = "an asset" if field == "asset_id" else "a site"
        problems.add(field, f"Must be {what} id (a UUID).")
        return None
    return value.lower()


def _recurrence(problems: Problems, field: str, value: Any, partial: bool) -> str:
    try:
        return normalized(value)
    except RuleProblem as exc:
        problems.add(field, str(exc))
        return ""


def _starts_on(problems: Problems, field: str, value: Any, partial: bool) -> date | None:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(field, "Must be a date: YYYY-MM-DD.")
    return None


def _at(problems: Problems, field: str, value: Any, partial: bool) -> time | None:
    if isinstance(value, str) and _AT.match(value):
        return time.fromisoformat(value)
    problems.add(field, "Use HH:MM on a 24-hour clock, 00:00 to 23:59, in the site's time zone.")
    return None


def _number(low: int, high: int):
    def clean(problems: Problems, field: str, value: Any, partial: bool) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(field, f"Must be a whole number, not {json_type(value)}.")
            return low
        if not low <= value <= high:
            problems.add(field, f"Must be from {low} to {high}.")
        return value

    return clean


def _order(problems: Problems, field: str, value: Any, partial: bool) -> dict[str, str]:
    if not isinstance(value, Mapping):
        problems.add(field, f"Must be an object, not {json_type(value)}.")
        return {}
    problems.unknown(field, value, ORDER_FIELDS)
    template: dict[str, str] = {}
    for name in ORDER_FIELDS:
        if name not in value:
            if not partial and name in ("title", "category"):
                problems.add(f"{field}.{name}", REQUIRED_PROBLEM)
            continue
        part = value[name]
        if part is None:
            problems.add(f"{field}.{name}", NULL_PROBLEM)
            continue
        limit = DESCRIPTION_MAX if name == "description" else TITLE_MAX
        text = clean_text(problems, f"{field}.{name}", part, limit=limit, required=name == "title")
        template[name] = text
    if template.get("category") == "" and "category" in value:
        problems.add(f"{field}.category", BLANK_PROBLEM)
    return template


CLEANERS = {
    "name": _name,
    "site_id": _place,
    "asset_id": _place,
    "recurrence": _recurrence,
    "starts_on": _starts_on,
    "at": _at,
    "lead_days": _number(0, LEAD_DAYS_MAX),
    "window_hours": _number(1, WINDOW_HOURS_MAX),
    "order": _order,
}

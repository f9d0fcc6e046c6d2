"""Every field of an asset and its rule, in one place: the API's create and change and the
admin's form call :func:`clean_asset`, which checks every field at once and names each bad one,
so a caller fixes them all in one round. Values are taken as JSON types them, never coerced;
the helpers are the sites' (``fields``), so an asset's code follows a site's rule.

An asset's status moves in service ↔ down freely; *retired* is where equipment ends (it keeps
its code and its orders' history) and only reinstating brings it back. Which moves are allowed
when is ``facilities.asset_services``' job; here only what each value may be."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from kernel.errors import ValidationError
from kernel.text import json_type

from .fields import (
    NAME_MAX,
    NULL_PROBLEM,
    REQUIRED_PROBLEM,
    Problems,
    clean_code,
    clean_text,
    is_site_id,
)

IN_SERVICE = "in_service"
DOWN = "down"
RETIRED = "retired"
STATUSES: tuple[str, ...] = (IN_SERVICE, DOWN, RETIRED)
#: The statuses of equipment still at its site: listed by default, keeping the site active.
ACTIVE_STATUSES: tuple[str, ...] = (IN_SERVICE, DOWN)
#: Each status as people say it (the admin, the label); the API keeps the slugs.
STATUS_LABELS: Mapping[str, str] = {IN_SERVICE: "In service", DOWN: "Down", RETIRED: "Retired"}

#: The free-text fields describing the equipment and their longest values.
DETAIL_LIMITS: Mapping[str, int] = {
    "category": 100,
    "make": 100,
    "model": 100,
    "serial_number": 100,
}
NOTES_MAX = 4000
#: ``YYYY-MM-DD``, as ISO 8601 writes a calendar date (nothing else: no time, no week date).
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE = re.compile(DATE_PATTERN.replace("$", r"\Z"))
#: The latest offset from UTC anywhere (Kiribati): "today" somewhere on Earth.
_EARTHS_LAST_OFFSET = timedelta(hours=14)

FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "site",
    "site_code",
    *DETAIL_LIMITS,
    "installed_on",
    "status",
    "notes",
)
REQUIRED: tuple[str, ...] = ("code", "name")
#: What a new asset that does not say gets.
DEFAULTS: Mapping[str, Any] = {
    **dict.fromkeys(DETAIL_LIMITS, ""),
    "installed_on": None,
    "status": IN_SERVICE,
    "notes": "",
}

NO_SITE_PROBLEM = "Give the asset's site: site (its id) or site_code."
BOTH_SITES_PROBLEM = "Give site or site_code, not both."
SITE_ID_PROBLEM = "Must be the id of one of your sites (a UUID)."
DATE_PROBLEM = "Use a date as YYYY-MM-DD, such as 2024-03-31."
FUTURE_PROBLEM = "Must not be in the future."


def status_label(status: str) -> str:
    """ "In service", "Down", "Retired" (an unknown value as it is)."""
    return STATUS_LABELS.get(status, status)


def latest_install_date() -> date:
    """The latest date equipment may have been installed on: today where it is already latest
    (an integrator east of UTC installs "today" while UTC is still yesterday)."""
    return (datetime.now(UTC) + _EARTHS_LAST_OFFSET).date()


def clean_asset(
    raw: Mapping[str, Any], *, partial: bool = False, latest: date | None = None
) -> dict[str, Any]:
    """The asset's fields that ``raw`` gives, cleaned; :class:`ValidationError` naming every bad
    one. Whole (``partial=False``, a new asset): code, name and a site (``site`` or
    ``site_code``) are required and the rest get :data:`DEFAULTS`. ``partial``: only what is
    given (a change). ``installed_on`` becomes a :class:`date`, no later than ``latest``
    (:func:`latest_install_date` unless given)."""
    if not isinstance(raw, Mapping):
        raise ValidationError({"body": [f"Must be an object, not {json_type(raw)}."]})
    problems = Problems()
    problems.unknown("", raw, FIELDS)
    cleaned: dict[str, Any] = {}
    for name in FIELDS:
        if name not in raw:
            if not partial and name in REQUIRED:
                problems.add(name, REQUIRED_PROBLEM)
            continue
        value = raw[name]
        if value is None and name != "installed_on":
            problems.add(name, NULL_PROBLEM)
            continue
        cleaned[name] = _clean(problems, name, value, latest or latest_install_date())
    if "site" in raw and "site_code" in raw:
        problems.add("site", BOTH_SITES_PROBLEM)
    elif not partial and "site" not in raw and "site_code" not in raw:
        problems.add("site", NO_SITE_PROBLEM)
    problems.raise_if_any()
    if not partial:
        cleaned = {**DEFAULTS, **cleaned}
    return cleaned


def _clean(problems: Problems, name: str, value: Any, latest: date) -> Any:
    if name in ("code", "site_code"):
        return clean_code(problems, name, value)
    if name == "name":
        return clean_text(problems, name, value, limit=NAME_MAX, required=True)
    if name == "site":
        return _site(problems, name, value)
    if name in DETAIL_LIMITS:
        return clean_text(problems, name, value, limit=DETAIL_LIMITS[name])
    if name == "installed_on":
        return _installed_on(problems, name, value, latest)
    if name == "status":
        return _status(problems, name, value)
    return clean_text(problems, name, value, limit=NOTES_MAX)  # notes


def _site(problems: Problems, field: str, value: Any) -> str | None:
    if not isinstance(value, str) or not is_site_id(value):
        problems.add(field, SITE_ID_PROBLEM)
        return None
    return value.lower()


def _installed_on(problems: Problems, field: str, value: Any, latest: date) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(field, f"Must be a string, not {json_type(value)}.")
        return None
    try:
        day = date.fromisoformat(value) if _DATE.match(value) else None
    except ValueError:  # the right shape, no such day: 2024-02-30
        day = None
    if day is None:
        problems.add(field, DATE_PROBLEM)
    elif day > latest:
        problems.add(field, FUTURE_PROBLEM)
    return day


def _status(problems: Problems, field: str, value: Any) -> str:
    if not isinstance(value, str):
        problems.add(field, f"Must be a string, not {json_type(value)}.")
    elif value not in STATUSES:
        problems.add(field, f'"{value}" is not one of: {", ".join(STATUSES)}.')
    return value

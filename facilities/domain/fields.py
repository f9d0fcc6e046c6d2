"""Every field of a site and its rule, in one place: the API's create and change, the admin's
form and each row of an import call :func:`clean_site`, which checks every field at once and
names each bad one (``address.country``, ``access_hours[1].opens``), so a caller fixes them
all in one round. Values are taken as JSON types them, never coerced."""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from kernel.errors import ValidationError
from kernel.formats import EMAIL_PATTERN, REFERENCE_MAX, reference_problem
from kernel.text import json_type, text_problem

from .countries import COUNTRIES
from .kinds import KINDS

CODE_MAX = REFERENCE_MAX
NAME_MAX = 200
TIME_ZONE_MAX = 64
#: Each part of an address and its longest value (``country`` is a two-letter code).
ADDRESS_LIMITS: Mapping[str, int] = {
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
}
ADDRESS_PARTS: tuple[str, ...] = (*ADDRESS_LIMITS, "country")
ACCESS_HOURS_MAX = 14
CONTACTS_MAX = 10
CONTACT_LIMITS: Mapping[str, int] = {"name": 200, "role": 100, "phone": 50, "email": 200}
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: ``HH:MM`` on a 24-hour clock; a window may close at ``24:00`` (the end of the day).
OPENS_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CLOSES_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
#: The shape of an IANA zone name (``UTC``, ``Europe/Madrid``, ``America/Argentina/Salta``,
#: ``Etc/GMT+5``); the zone must also be one this machine knows.
TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_OPENS = re.compile(OPENS_PATTERN.replace("$", r"\Z"))
_CLOSES = re.compile(CLOSES_PATTERN.replace("$", r"\Z"))
_UUID = re.compile(UUID_PATTERN.replace("$", r"\Z"))
_TIME_ZONE = re.compile(TIME_ZONE_PATTERN.replace("$", r"\Z"))

FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "kind",
    "parent",
    "parent_code",
    "address",
    "time_zone",
    "access_hours",
    "contacts",
)
REQUIRED: tuple[str, ...] = ("code", "name", "kind", "time_zone")

REQUIRED_PROBLEM = "This field is required."
BLANK_PROBLEM = "This field may not be blank."
NULL_PROBLEM = "This field may not be null."
TIME_PROBLEM = "Use HH:MM on a 24-hour clock, 00:00 to 23:59"
NO_DAY_PROBLEM = "Name at least one day: mon, tue, wed, thu, fri, sat or sun."


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (read once: the list does not change while a
    process runs)."""
    return frozenset(zoneinfo.available_timezones())


def is_site_id(value: str) -> bool:
    """Whether ``value`` has a site id's shape (a UUID written out, any case)."""
    return _UUID.match(value) is not None


def time_zone_problem(name: str) -> str | None:
    if _TIME_ZONE.match(name) and name in time_zones():
        return None
    return (
        f'"{name}" is not a time zone: use an IANA name such as Europe/Madrid or America/New_York.'
    )


def unknown_field_problem(name: Any, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(name), known, n=1)
    if close:
        return f"Unknown field. Did you mean '{close[0]}'?"
    return f"Unknown field. The fields are: {', '.join(sorted(known))}."


def too_long(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


def too_many(limit: int) -> str:
    return f"Ensure this field has no more than {limit} elements."


class Problems:
    """The problems found so far, by field path."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def unknown(self, path: str, data: Mapping[str, Any], known: tuple[str, ...]) -> None:
        for name in sorted(set(data) - set(known), key=str):
            self.add(f"{path}.{name}" if path else str(name), unknown_field_problem(name, known))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def clean_site(raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The site's fields that ``raw`` gives, cleaned; :class:`ValidationError` naming every bad
    one. Whole (``partial=False``, a new site): the required fields must be there and the
    others get their empty values. ``partial``: only what is given (a change); ``address``
    then holds only the parts given, to be merged with the stored ones."""
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
        if value is None and name not in ("parent", "parent_code"):
            problems.add(name, NULL_PROBLEM)
            continue
        cleaned[name] = CLEANERS[name](problems, name, value)
    if cleaned.get("parent") is not None and cleaned.get("parent_code") is not None:
        problems.add("parent", "Give parent or parent_code, not both.")
    problems.raise_if_any()
    if not partial:
        cleaned.setdefault("parent", None)
        cleaned.setdefault("parent_code", None)
        cleaned["address"] = {**dict.fromkeys(ADDRESS_PARTS, ""), **cleaned.get("address", {})}
        cleaned.setdefault("access_hours", [])
        cleaned.setdefault("contacts", [])
    return cleaned


def clean_text(
    problems: Problems, field: str, value: Any, *, limit: int, required: bool = False
) -> str:
    """A string, trimmed, storable, not over ``limit``; blank only if not ``required``."""
    if not isinstance(value, str):
        problems.add(field, f"Must be a string, not {json_type(value)}.")
        return ""
    if (reason := text_problem(value)) is not None:
        problems.add(field, reason)
        return ""
    value = value.strip()
    if required and not value:
        problems.add(field, BLANK_PROBLEM)
    elif len(value) > limit:
        problems.add(field, too_long(limit))
    return value


def clean_code(problems: Problems, field: str, value: Any) -> str | None:
    """An integrator's own code (a site's, an asset's): ``kernel.formats``' reference rule."""
    # Taken exactly as sent, like an order's external reference: " S-1" is not "S-1".
    if not isinstance(value, str):
        problems.add(field, f"Must be a string, not {json_type(value)}.")
        return None
    if (reason := reference_problem(value)) is not None:
        problems.add(field, reason)
    return value


def _name(problems: Problems, field: str, value: Any) -> str:
    return clean_text(problems, field, value, limit=NAME_MAX, required=True)


def _kind(problems: Problems, field: str, value: Any) -> str:
    if not isinstance(value, str):
        problems.add(field, f"Must be a string, not {json_type(value)}.")
    elif value not in KINDS:
        problems.add(field, f'"{value}" is not one of: {", ".join(KINDS)}.')
    return value


def _parent(problems: Problems, field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _UUID.match(value):
        problems.add(field, "Must be the id of one of your sites (a UUID), or null.")
        return None
    return value.lower()


def _parent_code(problems: Problems, field: str, value: Any) -> str | None:
    return None if value is None else clean_code(problems, field, value)


def _time_zone(problems: Problems, field: str, value: Any) -> str:
    name = clean_text(problems, field, value, limit=TIME_ZONE_MAX, required=True)
    if field not in problems.errors and (reason := time_zone_problem(name)) is not None:
        problems.add(field, reason)
    return name


def _address(problems: Problems, field: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        problems.add(field, f"Must be an object, not {json_type(value)}.")
        return {}
    problems.unknown(field, value, ADDRESS_PARTS)
    address: dict[str, str] = {}
    for part, limit in ADDRESS_LIMITS.items():
        if part in value:
            address[part] = clean_text(problems, f"{field}.{part}", value[part], limit=limit)
    if "country" in value:
        address["country"] = _country(problems, f"{field}.country", value["country"])
    return address


def _country(problems: Problems, field: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        problems.add(field, f"Must be a string, not {json_type(value)}.")
        return ""
    if value not in COUNTRIES:
        problems.add(
            field,
            f'"{value}" is not an ISO 3166-1 alpha-2 country code (two capitals, such as US '
            "or ES).",
        )
        return ""
    return value


def _objects(problems: Problems, field: str, value: Any, limit: int) -> list[Mapping[str, Any]]:
    """A list of at most ``limit`` objects (the items that are not are reported)."""
    if not isinstance(value, list):
        problems.add(field, f"Must be an array, not {json_type(value)}.")
        return []
    if len(value) > limit:
        problems.add(field, too_many(limit))
        return []
    items = []
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            items.append((index, item))
        else:
            problems.add(f"{field}[{index}]", f"Must be an object, not {json_type(item)}.")
    return items


ACCESS_HOURS_KEYS = ("days", "opens", "closes")


def _access_hours(problems: Problems, field: str, value: Any) -> list[dict[str, Any]]:
    windows = []
    for index, item in _objects(problems, field, value, ACCESS_HOURS_MAX):
        path = f"{field}[{index}]"
        problems.unknown(path, item, ACCESS_HOURS_KEYS)
        for key in ACCESS_HOURS_KEYS:
            if key not in item:
                problems.add(f"{path}.{key}", REQUIRED_PROBLEM)
        days = _days(problems, f"{path}.days", item["days"]) if "days" in item else []
        opens = _clock(problems, f"{path}.opens", item.get("opens", ""), _OPENS, closing=False)
        closes = _clock(problems, f"{path}.closes", item.get("closes", ""), _CLOSES, closing=True)
        windows.append({"days": days, "opens": opens, "closes": closes})
    return windows


def _days(problems: Problems, field: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        problems.add(field, f"Must be an array, not {json_type(value)}.")
        return []
    if not value:
        problems.add(field, NO_DAY_PROBLEM)
    for day in value:
        if not isinstance(day, str):
            problems.add(field, f"Must be strings, not {json_type(day)}.")
        elif day not in WEEKDAYS:
            problems.add(field, f'"{day}" is not one of: {", ".join(WEEKDAYS)}.')
    # In the week's order, each day once (a day named twice is the same day).
    return sorted({d for d in value if isinstance(d, str) and d in WEEKDAYS}, key=WEEKDAYS.index)


def _clock(
    problems: Problems, field: str, value: Any, pattern: re.Pattern, *, closing: bool
) -> str:
    if field in problems.errors:
        return ""  # missing: said so already
    if not isinstance(value, str) or not pattern.match(value):
        problems.add(field, TIME_PROBLEM + (", or 24:00." if closing else "."))
        return ""
    return value


def _contacts(problems: Problems, field: str, value: Any) -> list[dict[str, str]]:
    contacts = []
    for index, item in _objects(problems, field, value, CONTACTS_MAX):
        path = f"{field}[{index}]"
        problems.unknown(path, item, tuple(CONTACT_LIMITS))
        if "name" not in item:
            problems.add(f"{path}.name", REQUIRED_PROBLEM)
        contact = dict.fromkeys(CONTACT_LIMITS, "")
        for key, limit in CONTACT_LIMITS.items():
            if key in item:
                contact[key] = clean_text(
                    problems, f"{path}.{key}", item[key], limit=limit, required=key == "name"
                )
        if contact["email"] and not EMAIL_PATTERN.match(contact["email"]):
            problems.add(f"{path}.email", "Enter a valid email address.")
        contacts.append(contact)
    return contacts


CLEANERS = {
    "code": clean_code,
    "name": _name,
    "kind": _kind,
    "parent": _parent,
    "parent_code": _parent_code,
    "address": _address,
    "time_zone": _time_zone,
    "access_hours": _access_hours,
    "contacts": _contacts,
}

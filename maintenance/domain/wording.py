"""A plan's recurrence in people's words, for the staff pages and the API's ``schedule``:
``FREQ=MONTHLY;BYDAY=1MO`` at 07:00 reads "Every month on the first Monday at 07:00". Parts
without words here (BYSETPOS, BYWEEKNO, BYYEARDAY) are shown as the rule says them."""

from __future__ import annotations

import re
from datetime import time

UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ORDINALS = {
    1: "first",
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    -1: "last",
    -2: "second to last",
}
_DAY = re.compile(r"\A([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)\Z")


def describe(rule: str, at: time) -> str:
    parts = dict(piece.split("=", 1) for piece in rule.split(";") if "=" in piece)
    unit = UNITS.get(parts.get("FREQ", ""), "time")
    given = parts.get("INTERVAL", "1")
    interval = int(given) if given.isdigit() else 1
    words = [f"Every {unit}" if interval == 1 else f"Every {interval} {unit}s"]
    if "BYMONTH" in parts:
        words.append("in " + _listed(_month(m) for m in parts["BYMONTH"].split(",")))
    if "BYDAY" in parts:
        words.append("on " + _listed(_day(d) for d in parts["BYDAY"].split(",")))
    if "BYMONTHDAY" in parts:
        words.append("on " + _listed(_month_day(d) for d in parts["BYMONTHDAY"].split(",")))
    words.append(f"at {at:%H:%M}")
    for name in ("BYSETPOS", "BYWEEKNO", "BYYEARDAY"):
        if name in parts:
            words.append(f"({name}={parts[name]})")
    if "COUNT" in parts:
        words.append(f"— {parts['COUNT']} times in all")
    if "UNTIL" in parts:
        until = parts["UNTIL"]
        words.append(f"— until {until[:4]}-{until[4:6]}-{until[6:8]}")
    return " ".join(words)


def _listed(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _month(value: str) -> str:
    return MONTHS[int(value) - 1] if value.isdigit() and 1 <= int(value) <= 12 else value


def _day(value: str) -> str:
    match = _DAY.match(value)
    if match is None:
        return value
    number, day = match.group(1), DAYS[match.group(2)]
    if number is None:
        return day
    ordinal = ORDINALS.get(int(number), f"#{int(number)}")
    return f"the {ordinal} {day}"


def _month_day(value: str) -> str:
    if value.lstrip("-").isdigit() and int(value) < 0:
        return "the last day" if value == "-1" else f"day {value} (from the end)"
    return f"day {value}"

"""A site's access hours and contacts in people's words, for staff who read them (the site's
page when they may only view it, the sites' list): "Mon–Fri 07:00–22:00; Sat 09:00–18:00",
"Dana Reyes (Store manager), +1 555 0100". The API keeps the stored shape (``mon``, ``HH:MM``).

Hours are the site's own clock (its time zone), not the reader's: a store that opens at 07:00
opens at 07:00 wherever the reader is, so they are shown as stored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .fields import WEEKDAYS

#: Each day as its tick box and a summary read it.
DAY_LABELS: Mapping[str, str] = dict(
    zip(WEEKDAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True)
)
#: A run of this many days in a row or more reads as a range ("Mon–Fri"); shorter, as a list.
RANGE_FROM = 3
NO_HOURS = "—"


def days_text(days: Iterable[str]) -> str:
    """``["mon", "tue", "wed", "thu", "fri", "sun"]`` → "Mon–Fri, Sun"; all seven: "Every day"."""
    ticked = sorted({d for d in days if d in DAY_LABELS}, key=WEEKDAYS.index)
    if len(ticked) == len(WEEKDAYS):
        return "Every day"
    runs: list[list[str]] = []
    for day in ticked:
        if runs and WEEKDAYS.index(day) == WEEKDAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= RANGE_FROM:
            parts.append(f"{DAY_LABELS[run[0]]}–{DAY_LABELS[run[-1]]}")
        else:
            parts.extend(DAY_LABELS[day] for day in run)
    return ", ".join(parts)


def times_text(opens: str, closes: str) -> str:
    """ "07:00–22:00"; a window that closes at or before it opens runs past midnight (the rule
    of ``fields``): "22:00–06:00 next day", "07:00–midnight", "all day"."""
    if closes in ("00:00", "24:00"):
        return "all day" if opens == "00:00" else f"{opens}–midnight"
    if closes <= opens:
        return f"{opens}–{closes} next day"
    return f"{opens}–{closes}"


def window_text(window: Mapping[str, Any]) -> str:
    """One window of access hours: "Mon–Fri 07:00–22:00"."""
    days = days_text(window.get("days") or [])
    times = times_text(str(window.get("opens", "")), str(window.get("closes", "")))
    return f"{days} {times}" if days else times


def hours_summary(windows: Sequence[Mapping[str, Any]] | None) -> str:
    """Every window, in the order stored: "Mon–Fri 07:00–22:00; Sat 09:00–18:00"."""
    return "; ".join(window_text(w) for w in windows or []) or NO_HOURS


def contact_text(contact: Mapping[str, Any]) -> str:
    """ "Dana Reyes (Store manager), +1 555 0100, dana@example.com" (the parts it has)."""
    name = str(contact.get("name") or "")
    role = str(contact.get("role") or "")
    who = f"{name} ({role})" if role else name
    reach = [str(contact[key]) for key in ("phone", "email") if contact.get(key)]
    return ", ".join([who, *reach])


def contacts_summary(contacts: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """One line per contact."""
    return [contact_text(c) for c in contacts or []]

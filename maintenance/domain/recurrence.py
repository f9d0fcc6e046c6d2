"""A plan's recurrence: an RFC 5545 ``RRULE`` (``FREQ=MONTHLY;BYMONTHDAY=1``) expanded by
``python-dateutil`` from the plan's first due time, on the site's wall clock.

Occurrences are computed in the site's local time and only then placed on the timeline: a
monthly 07:00 visit stays at 07:00 through daylight saving time. A local time that does not
exist (02:30 on the night clocks spring forward) happens when the clock reaches it (03:30); one
that happens twice (the night they fall back) happens the first time.

The rule is read by us before dateutil sees it, so that what a person can get wrong gets a
sentence rather than a parser's message: ``DTSTART`` is the plan's own start, not the rule's;
an ``UNTIL`` may be a date, a local time, or a UTC time (``Z``)."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

#: The parts a plan's rule may have; the rest of RFC 5545 (BYHOUR, BYMINUTE…) would make
#: work more often than daily or move the plan's time of day, which ``at`` says.
PARTS = (
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYWEEKNO",
    "BYYEARDAY",
    "WKST",
)
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
RULE_MAX = 300
#: Expanding stops looking this far ahead: a rule that yields nothing within it (BYMONTHDAY=31
#: in February only) is refused as never happening.
HORIZON = timedelta(days=366 * 10)
#: How far before a moment its occurrences are looked for, so that a local time the clock
#: skips or repeats around it is not missed (the timeline decides).
LOOK_BACK = timedelta(hours=2)
#: How many periods back a monthly or yearly rule's start is tried on the same day of the
#: month (a 29 February start finds a leap year within 8 years).
SAME_DAY_TRIES = 9
_UNTIL = re.compile(r"\A(\d{8})(T(\d{6})(Z?))?\Z")
_PART = re.compile(r"\A[A-Z]+\Z")


class RuleProblem(ValueError):
    """The rule cannot be used; the message says why, in words."""


@dataclass(frozen=True)
class Recurrence:
    """A rule anchored at its first local due time in a zone."""

    rule: str
    first: datetime  # naive, the site's wall clock
    zone: str

    @functools.cached_property
    def _expanded(self) -> rrule:
        return expand(self.rule, self.first, self.zone)

    def after(self, moment: datetime, *, inclusive: bool = False) -> datetime | None:
        """The first occurrence after ``moment`` (aware), as an aware UTC time; None: no more."""
        return next(self._from(moment, inclusive=inclusive), None)

    def upcoming(self, moment: datetime, count: int) -> list[datetime]:
        """The next ``count`` occurrences from ``moment`` on (included), in UTC."""
        return list(itertools.islice(self._from(moment, inclusive=True), count))

    def between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Occurrences in ``[start, end)`` (aware), in UTC."""
        return itertools.takewhile(lambda due: due < end, self._from(start, inclusive=True))

    def _from(self, moment: datetime, *, inclusive: bool) -> Iterator[datetime]:
        """The occurrences after ``moment`` (aware; ``inclusive``: or at it), in order, each
        placed on the timeline once, from one pass over the rule: expanded from the latest
        start that yields the same occurrences (:func:`latest_start`), so that reading next
        month's occurrences of a plan that started years ago costs what it costs for one that
        started last week."""
        zone = ZoneInfo(self.zone)
        # A local wall time maps to UTC by the rules above; step back two hours so that a gap
        # or a fold around ``moment`` cannot hide an occurrence, then check on the timeline.
        since = moment.astimezone(zone).replace(tzinfo=None) - LOOK_BACK
        start = latest_start(self.rule, self.first, since)
        expanded = self._expanded if start == self.first else expand(self.rule, start, self.zone)
        threshold, at_threshold_too = moment, inclusive
        for candidate in expanded.xafter(since, inc=True):
            try:
                placed = on_timeline(candidate, zone)
            except OverflowError:  # 9999-12-31 on a clock behind UTC: past the calendar's end
                return
            if placed > threshold or (at_threshold_too and placed == threshold):
                yield placed
                threshold, at_threshold_too = placed, False


def latest_start(rule: str, first: datetime, target: datetime) -> datetime:
    """The latest local start, no later than ``target``, from which the rule (already
    :func:`normalized`) yields exactly the occurrences it yields from ``first`` from that start
    on: ``first`` moved on by whole periods of the rule (``INTERVAL`` days, weeks, months or
    years), on the same day of the month (a monthly or yearly rule may take its day from its
    start). A rule with ``COUNT`` counts from ``first``, so it keeps it; so does a start
    whose day a moved month lacks (the 31st) for a few periods in a row. dateutil expands a
    rule period by period from its start: without this, a plan started decades ago would cost
    a step per day since then on every read."""
    parts = dict(part.partition("=")[::2] for part in rule.split(";"))
    interval = parts.get("INTERVAL", "1")
    if target <= first or "COUNT" in parts or not interval.isdigit() or int(interval) < 1:
        return first
    step = int(interval)
    frequency = parts.get("FREQ")
    if frequency in ("DAILY", "WEEKLY"):
        period = timedelta(days=step * (7 if frequency == "WEEKLY" else 1))
        return first + (target - first) // period * period
    months = step * (12 if frequency == "YEARLY" else 1)
    elapsed = (target.year - first.year) * 12 + target.month - first.month
    periods = elapsed // months
    for count in range(periods, max(periods - SAME_DAY_TRIES, 0), -1):
        year, month = divmod(first.month - 1 + count * months, 12)
        try:
            start = first.replace(year=first.year + year, month=month + 1)
        except ValueError:  # no such day in that month (or beyond the calendar)
            continue
        if start <= target:
            return start
    return first


def on_timeline(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as a UTC instant (a gap moves forward, a fold takes the
    first)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def first_due(starts_on: date, at: time) -> datetime:
    return datetime.combine(starts_on, at)


def normalized(rule: str) -> str:
    """The rule as stored: capitals, parts in a fixed order, an optional ``RRULE:`` dropped.
    Raises :class:`RuleProblem` naming what is wrong."""
    if not isinstance(rule, str):
        raise RuleProblem("Must be a string such as FREQ=MONTHLY;BYMONTHDAY=1.")
    text = rule.strip().upper()
    text = text.removeprefix("RRULE:")
    if not text:
        raise RuleProblem("Give a rule such as FREQ=WEEKLY;BYDAY=MO.")
    if len(text) > RULE_MAX:
        raise RuleProblem(f"Ensure the rule has no more than {RULE_MAX} characters.")
    if "\n" in text or "\r" in text or "DTSTART" in text:
        raise RuleProblem(
            "Give one RRULE line without DTSTART: the plan's starts_on and at say when it starts."
        )
    parts: dict[str, str] = {}
    for piece in filter(None, text.split(";")):
        name, sep, value = piece.partition("=")
        if not sep or not _PART.match(name) or not value:
            raise RuleProblem(f"{piece!r} is not NAME=VALUE.")
        if name not in PARTS:
            raise RuleProblem(f"{name} is not allowed here; use {', '.join(PARTS)}.")
        if name in parts:
            raise RuleProblem(f"{name} is given twice.")
        parts[name] = value
    if parts.get("FREQ") not in FREQUENCIES:
        raise RuleProblem(f"FREQ must be one of {', '.join(FREQUENCIES)}.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleProblem("Give COUNT or UNTIL, not both.")
    if "UNTIL" in parts and not _UNTIL.match(parts["UNTIL"]):
        raise RuleProblem("UNTIL must be a date (20271231) or a time (20271231T170000, Z: UTC).")
    return ";".join(f"{name}={parts[name]}" for name in PARTS if name in parts)


def expand(rule: str, first: datetime, zone: str) -> rrule:
    """The rule (already :func:`normalized`) as dateutil's, on the zone's wall clock."""
    text = rule
    until = re.search(r"UNTIL=([0-9TZ]+)", text)
    if until is not None:
        text = text.replace(until.group(0), "UNTIL=" + _local_until(until.group(1), zone))
    try:
        expanded = rrulestr(text, dtstart=first)
    except (ValueError, TypeError) as exc:
        raise RuleProblem(f"The rule cannot be read: {exc}.") from None
    if not isinstance(expanded, rrule):
        raise RuleProblem("Give one rule.")
    return expanded


def _local_until(value: str, zone: str) -> str:
    match = _UNTIL.match(value)
    assert match is not None
    day, clock, utc = match.group(1), match.group(3), match.group(4)
    if clock is None:  # a date: through the end of that day
        return day + "T235959"
    if utc:
        moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return moment.astimezone(ZoneInfo(zone)).strftime("%Y%m%dT%H%M%S")
    return f"{day}T{clock}"


def checked(rule: str, first: datetime, zone: str, *, now: datetime) -> Recurrence:
    """A recurrence that will happen at least once after ``now``; :class:`RuleProblem` else."""
    recurrence = Recurrence(normalized(rule), first, zone)
    recurrence._expanded  # noqa: B018 - read: refuses what dateutil cannot
    upcoming = recurrence.after(now, inclusive=True)
    if upcoming is None or upcoming > now + HORIZON:
        raise RuleProblem(
            "The rule has no occurrence from now on: check its UNTIL, COUNT and BY… parts."
        )
    return recurrence

"""The SLA clock, computed from an order's history: how much of the promised time has been
used, how long it was paused, and when it falls due.

The clock starts when the order is created and counts only time spent in *open* statuses
(``StatusCategory.OPEN``) and, with a business calendar, only inside its working hours. Time in
*paused* statuses (on hold) never counts; a *done* status stops the clock for good. So holding
an order for two hours moves its due time two (working) hours later. While it is held it has
no due time at all (:attr:`SlaClock.due_at` is ``None``), only the time it has left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .model import SLA_BY_PRIORITY, Order
from .workflow import Status, StatusCategory, category_of

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: How far ahead a due time is looked for: a week's budget on one short working day a week
#: still fits; a calendar with no working time at all has no due time.
_SEARCH_DAYS = 5 * 366


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours: the same hours on each working day, in one time zone. The default,
    :data:`ALWAYS`, is every hour of every day."""

    timezone: str = "UTC"
    #: Working days, 0 = Monday.
    days: frozenset[int] = frozenset(range(7))
    start: time = time(0)
    #: ``None``: until midnight.
    end: time | None = None

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        if self.end is not None and self.end <= self.start:
            raise ValueError("working hours must end after they start")
        if not set(self.days) <= set(range(7)):
            raise ValueError("working days are 0 (Monday) to 6 (Sunday)")

    @property
    def always_open(self) -> bool:
        return len(self.days) == 7 and self.start == time(0) and self.end is None

    def describe(self) -> str:
        if self.always_open:
            return "24/7"
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        end = self.end.strftime("%H:%M") if self.end else "24:00"
        return f"{days} {self.start.strftime('%H:%M')}-{end} {self.timezone}"

    def _hours_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The working interval of a local date, as aware datetimes, or ``None``."""
        if day.weekday() not in self.days:
            return None
        zone = ZoneInfo(self.timezone)
        opens = datetime.combine(day, self.start, zone)
        closes = (
            datetime.combine(day, self.end, zone)
            if self.end is not None
            else datetime.combine(day + timedelta(days=1), time(0), zone)
        )
        return opens, closes

    def working_time(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if ``end`` is not after ``start``)."""
        if end <= start:
            return timedelta()
        if self.always_open:
            return end - start
        zone = ZoneInfo(self.timezone)
        total = timedelta()
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            hours = self._hours_on(day)
            if hours is not None:
                lo, hi = max(hours[0], start), min(hours[1], end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def advance(self, start: datetime, amount: timedelta) -> datetime | None:
        """The instant when ``amount`` of working time has passed after ``start``; ``None``
        if the calendar has too little working time to get there."""
        if amount <= timedelta():
            return start
        if self.always_open:
            return start + amount
        zone = ZoneInfo(self.timezone)
        left = amount
        day = start.astimezone(zone).date()
        for _ in range(_SEARCH_DAYS):
            hours = self._hours_on(day)
            if hours is not None:
                lo, hi = max(hours[0], start), hours[1]
                if hi > lo:
                    if hi - lo >= left:
                        return lo + left
                    left -= hi - lo
            day += timedelta(days=1)
        return None


ALWAYS = BusinessCalendar()


@dataclass(frozen=True)
class SlaClock:
    """Where an order stands against its SLA at one instant."""

    budget: timedelta
    #: Working time counted so far.
    used: timedelta
    #: Wall time spent in paused statuses.
    paused: timedelta
    #: When the budget runs out: the moment it did if breached; if the order is open, when
    #: it will; when done, when it would have. ``None`` while the clock is paused (on hold),
    #: breached or not: a time that moved with every second held would promise nothing, so
    #: a held order has no due time, only :attr:`remaining`. The stored
    #: ``Order.sla_due_at`` (``rules.with_sla``) follows the same rule, so the API's
    #: ``sla.due_at``, the order's ``sla_due_at`` and the events always agree.
    due_at: datetime | None
    #: The clock is counting now (an open status).
    running: bool
    breached: bool
    calendar: BusinessCalendar
    #: Stopped for now (a paused status such as on hold), not over.
    paused_now: bool = False

    @property
    def remaining(self) -> timedelta:
        return max(self.budget - self.used, timedelta())


def has_sla(order: Order) -> bool:
    """Only orders that passed review have an SLA (rejected ones and those still being
    reviewed have none)."""
    return any(entry.to_status is Status.ACCEPTED for entry in order.history)


def sla_clock(
    order: Order, *, now: datetime, calendar: BusinessCalendar = ALWAYS
) -> SlaClock | None:
    """The order's SLA clock at ``now`` (``None`` if it has no SLA, see :func:`has_sla`)."""
    if not has_sla(order):
        return None
    budget = SLA_BY_PRIORITY[order.priority]
    used = paused = timedelta()
    breached_at: datetime | None = None
    # Walk the statuses the order was in, segment by segment; creation starts the clock.
    entries = sorted(order.history, key=lambda h: h.version)
    status = entries[0].to_status if entries else order.status
    since = order.created_at
    stopped_at: datetime | None = None
    for entry in [*entries[1:], None]:
        until = entry.at if entry is not None else now
        until = min(max(until, since), now)
        category = category_of(status)
        if category is StatusCategory.DONE:
            stopped_at = since
            break
        if category is StatusCategory.OPEN:
            counted = calendar.working_time(since, until)
            if breached_at is None and used + counted > budget:
                breached_at = calendar.advance(since, budget - used)
            used += counted
        else:
            paused += until - since
        if entry is None:
            break
        status, since = entry.to_status, until
    category = category_of(status)
    running = category is StatusCategory.OPEN and stopped_at is None
    paused_now = category is StatusCategory.PAUSED and stopped_at is None
    breached = used > budget
    due_at: datetime | None
    if paused_now:
        due_at = None  # no due time while held (see SlaClock.due_at)
    elif breached:
        due_at = breached_at
    else:
        due_at = calendar.advance(stopped_at or now, budget - used)
    return SlaClock(
        budget=budget,
        used=used,
        paused=paused,
        due_at=due_at,
        running=running,
        breached=breached,
        calendar=calendar,
        paused_now=paused_now,
    )


def parse_calendar(text: str) -> BusinessCalendar:
    """A calendar from its short form: ``24/7``, or working days, hours and time zone, as
    ``mon-fri 08:00-18:00 Europe/Madrid`` (days as a range or a list: ``mon,wed,fri``;
    the zone defaults to UTC; ``24:00`` is midnight). :class:`ValueError` says what is wrong."""
    text = (text or "").strip()
    if text in ("", "24/7"):
        return ALWAYS
    parts = text.split()
    if len(parts) not in (2, 3):
        raise ValueError("use '24/7' or '<days> <HH:MM>-<HH:MM> [time zone]'")
    days_text, hours_text = parts[0].lower(), parts[1]
    zone = parts[2] if len(parts) == 3 else "UTC"
    days: set[int] = set()
    for chunk in days_text.split(","):
        first, _, last = chunk.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"unknown day in {days_text!r}; use {', '.join(DAY_NAMES)}")
        lo, hi = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        days.update(range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(0, hi + 1)])
    start_text, _, end_text = hours_text.partition("-")
    try:
        start = time.fromisoformat(start_text)
        end = None if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"hours {hours_text!r} are not HH:MM-HH:MM") from None
    try:
        return BusinessCalendar(timezone=zone, days=frozenset(days), start=start, end=end)
    except (ValueError, KeyError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(
            f"{exc}" if isinstance(exc, ValueError) else f"unknown time zone {zone!r}"
        ) from None

"""A plan's recurrence on the site's wall clock: occurrences keep their local time through
daylight saving time, a missing local time happens when the clock reaches it, a repeated one
the first time; rules a person may get wrong are refused in words; rules read as words."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from maintenance.domain.recurrence import Recurrence, RuleProblem, checked, normalized
from maintenance.domain.wording import describe

MADRID = ZoneInfo("Europe/Madrid")


def local(moments: list[datetime], zone: ZoneInfo = MADRID) -> list[str]:
    return [m.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") for m in moments]


def test_a_monthly_visit_keeps_its_local_time_through_daylight_saving_time():
    plan = Recurrence("FREQ=MONTHLY;BYMONTHDAY=15", datetime(2027, 1, 15, 7, 0), "Europe/Madrid")
    dues = plan.upcoming(datetime(2027, 1, 1, tzinfo=UTC), 4)
    assert local(dues) == [
        "2027-01-15 07:00 +0100",
        "2027-02-15 07:00 +0100",
        "2027-03-15 07:00 +0100",
        "2027-04-15 07:00 +0200",
    ]
    assert all(d.tzinfo is UTC for d in dues)


def test_a_time_the_clock_skips_happens_when_it_reaches_it_and_a_repeated_one_once():
    spring = Recurrence("FREQ=DAILY", datetime(2027, 3, 27, 2, 30), "Europe/Madrid")
    assert local(spring.upcoming(datetime(2027, 3, 27, tzinfo=UTC), 3)) == [
        "2027-03-27 02:30 +0100",
        "2027-03-28 03:30 +0200",  # 02:30 does not exist that night
        "2027-03-29 02:30 +0200",
    ]
    autumn = Recurrence("FREQ=DAILY", datetime(2027, 10, 30, 2, 30), "Europe/Madrid")
    dues = autumn.upcoming(datetime(2027, 10, 30, tzinfo=UTC), 3)
    assert local(dues) == [
        "2027-10-30 02:30 +0200",
        "2027-10-31 02:30 +0200",  # 02:30 happens twice that night: the first time
        "2027-11-01 02:30 +0100",
    ]


def test_after_is_strict_unless_inclusive_and_ends_with_the_rule():
    plan = Recurrence("FREQ=WEEKLY;COUNT=2", datetime(2027, 1, 4, 9, 0), "UTC")
    first = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    assert plan.after(first, inclusive=True) == first
    assert plan.after(first) == datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    assert plan.after(datetime(2027, 1, 11, 9, 0, tzinfo=UTC)) is None
    assert list(plan.between(first, datetime(2027, 2, 1, tzinfo=UTC))) == [
        first,
        datetime(2027, 1, 11, 9, 0, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("until", "last"),
    [
        ("20270301", "2027-03-01 07:00"),  # a date: through that day
        ("20270301T065959", "2027-02-01 07:00"),  # a local time
        ("20270301T120000Z", "2027-03-01 07:00"),  # UTC: 07:00 in New York is 12:00Z
    ],
)
def test_until_may_be_a_date_a_local_time_or_a_utc_time(until, last):
    plan = Recurrence(
        normalized(f"FREQ=MONTHLY;BYMONTHDAY=1;UNTIL={until}"),
        datetime(2027, 1, 1, 7, 0),
        "America/New_York",
    )
    dues = plan.upcoming(datetime(2027, 1, 1, tzinfo=UTC), 10)
    zone = ZoneInfo("America/New_York")
    assert dues[-1].astimezone(zone).strftime("%Y-%m-%d %H:%M") == last


def test_a_rule_is_stored_in_capitals_without_its_prefix_and_in_a_fixed_order():
    assert normalized(" rrule:byday=mo;freq=weekly ") == "FREQ=WEEKLY;BYDAY=MO"


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("", "Give a rule"),
        ("FREQ=HOURLY", "FREQ must be one of DAILY, WEEKLY, MONTHLY, YEARLY"),
        ("FREQ=DAILY;BYHOUR=3", "BYHOUR is not allowed here"),
        ("DTSTART:20270101T000000\nRRULE:FREQ=DAILY", "without DTSTART"),
        ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "COUNT or UNTIL, not both"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL must be a date"),
        ("FREQ=DAILY;INTERVAL", "is not NAME=VALUE"),
        ("FREQ=DAILY;COUNT=x", "cannot be read"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31", "no occurrence from now on"),
        ("FREQ=DAILY;UNTIL=20200101", "no occurrence from now on"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_saying_why(rule, says):
    with pytest.raises(RuleProblem, match=says):
        checked(rule, datetime(2027, 1, 1, 7, 0), "UTC", now=datetime(2027, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=MONTHLY;BYDAY=1MO", "Every month on the first Monday at 07:00"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", "Every 2 weeks on Monday and Friday at 07:00"),
        (
            "FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=15",
            "Every year in March and September on day 15 at 07:00",
        ),
        ("FREQ=MONTHLY;BYMONTHDAY=-1", "Every month on the last day at 07:00"),
        ("FREQ=DAILY;COUNT=10", "Every day at 07:00 — 10 times in all"),
        ("FREQ=WEEKLY;UNTIL=20271231", "Every week at 07:00 — until 2027-12-31"),
    ],
)
def test_a_rule_reads_as_words(rule, words):
    assert describe(rule, time(7, 0)) == words

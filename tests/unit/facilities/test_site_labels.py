"""A site's access hours and contacts in people's words (facilities.domain.labels): what staff
read on the sites' list and on the page of a site they may only view."""

from __future__ import annotations

import pytest

from facilities.domain.labels import (
    contact_text,
    contacts_summary,
    days_text,
    hours_summary,
    times_text,
)


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (["mon", "tue", "wed", "thu", "fri"], "Mon–Fri"),
        (["mon", "fri"], "Mon, Fri"),
        (["sat", "sun"], "Sat, Sun"),
        (["sun", "mon", "tue", "wed"], "Mon–Wed, Sun"),  # the week's order, Monday first
        (["mon", "tue", "wed", "fri", "sat"], "Mon–Wed, Fri, Sat"),
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "Every day"),
        ([], ""),
    ],
)
def test_days_read_as_ranges_and_lists(days, said):
    assert days_text(days) == said


@pytest.mark.parametrize(
    ("opens", "closes", "said"),
    [
        ("07:00", "22:00", "07:00–22:00"),
        ("22:00", "06:00", "22:00–06:00 next day"),  # closing before opening: past midnight
        ("08:00", "08:00", "08:00–08:00 next day"),
        ("07:00", "24:00", "07:00–midnight"),
        ("07:00", "00:00", "07:00–midnight"),
        ("00:00", "00:00", "all day"),
        ("00:00", "24:00", "all day"),
    ],
)
def test_times_say_when_a_window_runs_past_midnight(opens, closes, said):
    assert times_text(opens, closes) == said


def test_the_hours_summary_joins_the_windows_in_their_order():
    windows = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "07:00", "closes": "22:00"},
        {"days": ["sat"], "opens": "09:00", "closes": "18:00"},
    ]
    assert hours_summary(windows) == "Mon–Fri 07:00–22:00; Sat 09:00–18:00"
    assert hours_summary([]) == hours_summary(None) == "—"


def test_a_contact_reads_as_who_and_how_to_reach_them():
    dana = {"name": "Dana Reyes", "role": "Store manager", "phone": "+1 555 0100", "email": ""}
    assert contact_text(dana) == "Dana Reyes (Store manager), +1 555 0100"
    sam = {"name": "Sam Ortiz", "role": "", "phone": "", "email": "sam@example.com"}
    assert contact_text(sam) == "Sam Ortiz, sam@example.com"
    assert contacts_summary([dana, sam]) == [
        "Dana Reyes (Store manager), +1 555 0100",
        "Sam Ortiz, sam@example.com",
    ]
    assert contacts_summary(None) == []

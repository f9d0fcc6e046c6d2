"""A plan's fields are checked all at once, each bad one named (``order.title``,
``recurrence``); a change names only what it changes and cannot move the plan."""

from __future__ import annotations

from datetime import date, time

import pytest

from kernel.errors import ValidationError
from maintenance.domain.fields import clean_plan

PLAN = {
    "name": "Filters",
    "site_id": "0B8F5F5E-4A53-4B55-9D5A-0C5C1B0D2F11",
    "recurrence": "freq=monthly",
    "starts_on": "2027-01-01",
    "order": {"title": "Change the filters", "category": "hvac"},
}


def test_a_whole_plan_gets_its_defaults():
    cleaned = clean_plan(PLAN)
    assert cleaned["site_id"] == PLAN["site_id"].lower() and cleaned["asset_id"] is None
    assert cleaned["recurrence"] == "FREQ=MONTHLY"
    assert cleaned["starts_on"] == date(2027, 1, 1) and cleaned["at"] == time(9, 0)
    assert cleaned["lead_days"] == 0 and cleaned["window_hours"] == 4
    assert cleaned["order"] == {
        "title": "Change the filters",
        "category": "hvac",
        "priority": "normal",
        "description": "",
    }


def test_every_bad_field_is_named_at_once():
    bad = {
        "name": "  ",
        "asset_id": "not-a-uuid",
        "recurrence": "FREQ=SECONDLY",
        "starts_on": "2027-02-30",
        "at": "7am",
        "lead_days": 400,
        "window_hours": 1.5,
        "order": {"title": "", "colour": "red"},
        "extra": 1,
    }
    with pytest.raises(ValidationError) as refused:
        clean_plan(bad)
    assert set(refused.value.errors) == {
        "name",
        "asset_id",
        "recurrence",
        "starts_on",
        "at",
        "lead_days",
        "window_hours",
        "order.title",
        "order.category",
        "order.colour",
        "extra",
    }


def test_a_plan_needs_a_place():
    with pytest.raises(ValidationError) as refused:
        clean_plan({**PLAN, "site_id": None})
    assert refused.value.errors == {"site_id": ["Give site_id or asset_id: where the work is."]}


def test_a_change_names_only_what_changes_and_cannot_move_the_plan():
    assert clean_plan({"order": {"priority": "high"}}, partial=True) == {
        "order": {"priority": "high"}
    }
    with pytest.raises(ValidationError) as refused:
        clean_plan({"site_id": PLAN["site_id"]}, partial=True)
    assert "make a new plan" in refused.value.errors["site_id"][0]

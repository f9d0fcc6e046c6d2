"""Every field of an asset and its rule, each refusal naming its field
(facilities.domain.assets)."""

from __future__ import annotations

from datetime import date

import pytest

from facilities.domain.assets import (
    STATUS_LABELS,
    STATUSES,
    clean_asset,
    latest_install_date,
    status_label,
)
from kernel.errors import ValidationError

SITE_ID = "6F1C2D3E-4A5B-4C6D-8E9F-0A1B2C3D4E5F"
ASSET = {"code": "RTU-1", "name": "Rooftop unit 1", "site": SITE_ID}
LATEST = date(2026, 6, 30)


def problems_of(data: object, *, partial: bool = False) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        clean_asset(data, partial=partial, latest=LATEST)  # type: ignore[arg-type]
    return refused.value.errors


def test_a_whole_asset_gets_empty_values_for_what_it_does_not_say():
    assert clean_asset(ASSET, latest=LATEST) == {
        "code": "RTU-1",
        "name": "Rooftop unit 1",
        "site": SITE_ID.lower(),  # an id in any case is the same id
        "category": "",
        "make": "",
        "model": "",
        "serial_number": "",
        "installed_on": None,
        "status": "in_service",
        "notes": "",
    }


def test_every_missing_required_field_is_named_at_once():
    assert problems_of({}) == {
        "code": ["This field is required."],
        "name": ["This field is required."],
        "site": ["Give the asset's site: site (its id) or site_code."],
    }


def test_a_site_by_code_instead_of_by_id():
    cleaned = clean_asset({"code": "RTU-1", "name": "RTU", "site_code": "STORE-12"})
    assert cleaned["site_code"] == "STORE-12" and "site" not in cleaned


def test_a_site_by_id_and_by_code_at_once_is_refused():
    both = {**ASSET, "site_code": "STORE-12"}
    assert problems_of(both) == {"site": ["Give site or site_code, not both."]}
    assert list(problems_of({"site": SITE_ID, "site_code": "S"}, partial=True)) == ["site"]


def test_a_change_names_only_what_it_changes():
    assert clean_asset({"name": "  RTU 1b "}, partial=True) == {"name": "RTU 1b"}
    assert clean_asset({"status": "down"}, partial=True) == {"status": "down"}
    assert problems_of({"site": None}, partial=True) == {"site": ["This field may not be null."]}


@pytest.mark.parametrize("code", ["", " R-1", "R 1", "R#1", "-R1", "x" * 101, "R-1\n"])
def test_a_code_follows_a_sites_rule(code):
    assert list(problems_of({**ASSET, "code": code})) == ["code"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "This field may not be blank."),
        ("name", "x" * 201, "Ensure this field has no more than 200 characters."),
        ("name", 12, "Must be a string, not a number."),
        ("site", "not-a-uuid", "Must be the id of one of your sites (a UUID)."),
        ("site", 7, "Must be the id of one of your sites (a UUID)."),
        ("category", "x" * 101, "Ensure this field has no more than 100 characters."),
        ("make", ["Carrier"], "Must be a string, not an array."),
        ("model", "a\x00b", "Must not contain NUL characters."),
        ("serial_number", None, "This field may not be null."),
        ("notes", "x" * 4001, "Ensure this field has no more than 4000 characters."),
        ("status", "broken", '"broken" is not one of: in_service, down, retired.'),
        ("status", True, "Must be a string, not a boolean."),
        ("installed_on", "2024-02-30", "Use a date as YYYY-MM-DD, such as 2024-03-31."),
        ("installed_on", "2024-2-3", "Use a date as YYYY-MM-DD, such as 2024-03-31."),
        ("installed_on", "2024-02-03T10:00", "Use a date as YYYY-MM-DD, such as 2024-03-31."),
        ("installed_on", 20240203, "Must be a string, not a number."),
        ("installed_on", "2026-07-01", "Must not be in the future."),
    ],
)
def test_each_bad_value_is_named_with_its_problem(field, value, message):
    assert problems_of({**ASSET, field: value}) == {field: [message]}


def test_every_problem_comes_at_once_with_unknown_fields_named():
    errors = problems_of(
        {"code": "R 1", "name": "", "site": "x", "colour": "red", "serial": "1", "status": "up"}
    )
    assert set(errors) == {"code", "name", "site", "colour", "serial", "status"}
    assert errors["serial"] == ["Unknown field. Did you mean 'serial_number'?"]


def test_an_installation_date_is_a_date_up_to_the_latest_day():
    cleaned = clean_asset({**ASSET, "installed_on": "2026-06-30"}, latest=LATEST)
    assert cleaned["installed_on"] == date(2026, 6, 30)
    assert clean_asset({**ASSET, "installed_on": None}, latest=LATEST)["installed_on"] is None


def test_today_anywhere_on_earth_is_not_in_the_future():
    # East of UTC it may already be tomorrow: a date installed "today" there is accepted.
    assert latest_install_date() >= date.today()
    assert clean_asset({**ASSET, "installed_on": latest_install_date().isoformat()})


def test_text_is_trimmed_and_may_be_blank():
    cleaned = clean_asset({**ASSET, "make": " Carrier ", "model": "", "notes": "Roof\nladder"})
    assert cleaned["make"] == "Carrier" and cleaned["model"] == ""
    assert cleaned["notes"] == "Roof\nladder"


def test_a_body_that_is_not_an_object_is_refused_as_a_whole():
    assert problems_of(["RTU-1"]) == {"body": ["Must be an object, not an array."]}


def test_statuses_read_as_words():
    assert [status_label(s) for s in STATUSES] == ["In service", "Down", "Retired"]
    assert set(STATUS_LABELS) == set(STATUSES)
    assert status_label("unknown") == "unknown"

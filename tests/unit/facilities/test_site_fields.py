"""Every field of a site and its rule, each refusal naming its field (facilities.domain)."""

from __future__ import annotations

import pytest

from facilities.domain.fields import clean_site
from kernel.errors import ValidationError

SITE = {"code": "STORE-12", "name": "Store 12", "kind": "site", "time_zone": "Europe/Madrid"}


def problems_of(data: dict, *, partial: bool = False) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        clean_site(data, partial=partial)
    return refused.value.errors


def test_a_whole_site_gets_empty_values_for_what_it_does_not_say():
    cleaned = clean_site(SITE)
    assert cleaned["parent"] is None and cleaned["parent_code"] is None
    assert cleaned["address"] == dict.fromkeys(
        ("line1", "line2", "city", "region", "postal_code", "country"), ""
    )
    assert cleaned["access_hours"] == [] and cleaned["contacts"] == []


def test_every_missing_required_field_is_named_at_once():
    assert problems_of({}) == {
        name: ["This field is required."] for name in ("code", "name", "kind", "time_zone")
    }


def test_a_change_names_only_what_it_changes():
    assert clean_site({"name": "  Store 12b "}, partial=True) == {"name": "Store 12b"}
    assert problems_of({"name": None}, partial=True) == {"name": ["This field may not be null."]}


@pytest.mark.parametrize("code", ["", " S-1", "S 1", "S#1", "-S1", "x" * 101, "S-1\n"])
def test_a_code_is_an_orders_reference_taken_exactly(code):
    assert list(problems_of({**SITE, "code": code})) == ["code"]


@pytest.mark.parametrize("code", ["S", "STORE-0012", "a.b_c:d/e-f", "x" * 100])
def test_codes_that_are_references(code):
    assert clean_site({**SITE, "code": code})["code"] == code


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "This field may not be blank."),
        ("name", "x" * 201, "Ensure this field has no more than 200 characters."),
        ("name", 12, "Must be a string, not a number."),
        ("name", "a\x00b", "Must not contain NUL characters."),
        ("kind", "campus", '"campus" is not one of: region, site, building, floor.'),
        ("kind", ["site"], "Must be a string, not an array."),
        ("parent", "not-a-uuid", "Must be the id of one of your sites (a UUID), or null."),
        ("parent_code", "no spaces", None),
        ("time_zone", "Mars/Olympus_Mons", None),
        ("time_zone", "../etc/passwd", None),
        ("time_zone", "", "This field may not be blank."),
        ("address", "Main St 1", "Must be an object, not a str."),
        ("access_hours", {"days": ["mon"]}, "Must be an array, not an object."),
        ("contacts", "Dana", "Must be an array, not a str."),
    ],
)
def test_each_bad_field_is_named(field, value, message):
    errors = problems_of({**SITE, field: value})
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == [message]


def test_a_time_zone_is_an_iana_name_this_machine_knows():
    assert clean_site({**SITE, "time_zone": "America/Argentina/Salta"})["time_zone"]
    assert clean_site({**SITE, "time_zone": "UTC"})["time_zone"] == "UTC"
    (message,) = problems_of({**SITE, "time_zone": "Europe/Atlantis"})["time_zone"]
    assert "IANA" in message and "Europe/Atlantis" in message


def test_unknown_fields_are_named_with_the_closest_known_one():
    errors = problems_of({**SITE, "nmae": "x", "colour": "red"})
    assert errors["nmae"] == ["Unknown field. Did you mean 'name'?"]
    assert errors["colour"][0].startswith("Unknown field. The fields are: ")


def test_parent_and_parent_code_are_one_or_the_other():
    errors = problems_of(
        {**SITE, "parent": "0b7a3f2e-8f0e-4a57-9d55-3c8d2f7f1a10", "parent_code": "REGION-1"}
    )
    assert errors == {"parent": ["Give parent or parent_code, not both."]}
    upper = clean_site({**SITE, "parent": "0B7A3F2E-8F0E-4A57-9D55-3C8D2F7F1A10"})
    assert upper["parent"] == "0b7a3f2e-8f0e-4a57-9d55-3c8d2f7f1a10"


def test_an_address_names_each_bad_part():
    errors = problems_of(
        {
            **SITE,
            "address": {"line1": "x" * 201, "country": "us", "postcode": "1", "city": 3},
        }
    )
    assert set(errors) == {"address.line1", "address.country", "address.postcode", "address.city"}
    assert "ISO 3166-1 alpha-2" in errors["address.country"][0]
    assert errors["address.postcode"] == ["Unknown field. Did you mean 'postal_code'?"]


def test_an_address_is_trimmed_and_a_change_keeps_only_its_parts():
    cleaned = clean_site({**SITE, "address": {"city": " Madrid ", "country": "ES"}})
    assert cleaned["address"]["city"] == "Madrid" and cleaned["address"]["country"] == "ES"
    partial = clean_site({"address": {"city": "Bilbao", "country": None}}, partial=True)
    assert partial == {"address": {"city": "Bilbao", "country": ""}}


def test_access_hours_in_the_weeks_order_each_day_once():
    hours = [{"days": ["fri", "mon", "mon"], "opens": "08:00", "closes": "18:30"}]
    assert clean_site({**SITE, "access_hours": hours})["access_hours"] == [
        {"days": ["mon", "fri"], "opens": "08:00", "closes": "18:30"}
    ]


def test_access_hours_may_run_past_midnight_and_close_at_24():
    hours = [
        {"days": ["sat"], "opens": "22:00", "closes": "06:00"},
        {"days": ["sun"], "opens": "00:00", "closes": "24:00"},
    ]
    assert clean_site({**SITE, "access_hours": hours})["access_hours"] == hours


def test_access_hours_name_each_bad_part():
    hours = [
        {"days": [], "opens": "8:00", "closes": "24:01"},
        {"days": ["monday"], "opens": "24:00"},
        "9 to 5",
        {"days": ["tue"], "opens": "09:00", "closes": "17:00", "note": "x"},
    ]
    errors = problems_of({**SITE, "access_hours": hours})
    assert errors["access_hours[0].days"] == [
        "Name at least one day: mon, tue, wed, thu, fri, sat or sun."
    ]
    assert errors["access_hours[0].opens"][0].startswith("Use HH:MM")
    assert errors["access_hours[0].closes"][0].endswith("or 24:00.")
    assert errors["access_hours[1].days"] == [
        '"monday" is not one of: mon, tue, wed, thu, fri, sat, sun.'
    ]
    assert errors["access_hours[1].opens"][0].startswith("Use HH:MM")  # 24:00 only closes
    assert errors["access_hours[1].closes"] == ["This field is required."]
    assert errors["access_hours[2]"] == ["Must be an object, not a str."]
    assert errors["access_hours[3].note"][0].startswith("Unknown field.")


def test_access_hours_and_contacts_are_bounded():
    window = {"days": ["mon"], "opens": "08:00", "closes": "09:00"}
    errors = problems_of({**SITE, "access_hours": [window] * 15, "contacts": [{"name": "A"}] * 11})
    assert errors == {
        "access_hours": ["Ensure this field has no more than 14 elements."],
        "contacts": ["Ensure this field has no more than 10 elements."],
    }


def test_contacts_have_a_name_and_maybe_a_valid_email():
    contacts = [
        {"name": " Dana ", "email": "dana@example.com"},
        {"role": "Guard"},
        {"name": "B", "email": "nope"},
    ]
    errors = problems_of({**SITE, "contacts": contacts})
    assert errors == {
        "contacts[1].name": ["This field is required."],
        "contacts[2].email": ["Enter a valid email address."],
    }
    cleaned = clean_site({**SITE, "contacts": contacts[:1]})
    assert cleaned["contacts"] == [
        {"name": "Dana", "role": "", "phone": "", "email": "dana@example.com"}
    ]


def test_something_that_is_not_an_object_is_refused_as_a_whole():
    assert problems_of(["site"]) == {"body": ["Must be an object, not an array."]}

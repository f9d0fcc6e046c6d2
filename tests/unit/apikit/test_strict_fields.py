"""The API's strict fields: JSON types as the contract says, no coercion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from rest_framework import serializers

from apikit.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictDateTimeField,
    StrictEmailField,
    StrictRegexField,
)


def run(field: serializers.Field, value):
    return field.run_validation(value)


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "1", "on", "yes", None, [True]])
def test_a_strict_boolean_is_only_true_or_false(value):
    field = StrictBooleanField()
    with pytest.raises(serializers.ValidationError, match="true or false|null"):
        run(field, value)


def test_a_strict_boolean_keeps_true_and_false():
    assert run(StrictBooleanField(), True) is True
    assert run(StrictBooleanField(), False) is False


@pytest.mark.parametrize(
    "field",
    [StrictCharField(), StrictRegexField(r"^\w+\Z"), StrictEmailField()],
    ids=["char", "regex", "email"],
)
@pytest.mark.parametrize("value", [123, 1.5, True, ["a"], {"a": 1}])
def test_a_strict_string_field_refuses_other_json_types(field, value):
    with pytest.raises(serializers.ValidationError):
        run(field, value)


def test_a_strict_string_field_keeps_strings():
    assert run(StrictCharField(), " abc ") == "abc"
    assert run(StrictEmailField(), "a@example.com") == "a@example.com"


@pytest.mark.parametrize("value", ["2026-12-01T09:00:00", "2026-12-01 09:00", "2026-12-01T09:00"])
def test_a_time_without_offset_is_refused(value):
    with pytest.raises(serializers.ValidationError, match="time zone offset"):
        run(StrictDateTimeField(), value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T09:00:00Z", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        ("2026-12-01T11:00:00+02:00", datetime(2026, 12, 1, 9, tzinfo=UTC)),
    ],
)
def test_a_time_with_offset_is_kept(value, expected):
    assert run(StrictDateTimeField(), value) == expected


@pytest.mark.parametrize("value", ["2026-13-01T09:00:00Z", "yesterday", 1700000000])
def test_a_time_that_is_not_one_is_refused(value):
    with pytest.raises(serializers.ValidationError, match="wrong format"):
        run(StrictDateTimeField(), value)


def test_an_aware_datetime_object_is_kept():
    value = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert run(StrictDateTimeField(), value) == value


@pytest.mark.parametrize(
    ("value", "named"),
    [(12345, "a number"), (True, "a boolean"), ([], "an array"), ({}, "an object")],
)
@pytest.mark.parametrize(
    "field",
    [StrictCharField, lambda: StrictRegexField(r"^[A-Z]+\Z"), StrictEmailField],
    ids=["char", "regex", "email"],
)
def test_a_value_that_is_not_a_string_is_named_as_such(field, value, named):
    """Not a regex field's "does not match the pattern" for ``12345``: the type is the problem."""
    with pytest.raises(serializers.ValidationError, match=f"Must be a string, not {named}"):
        run(field(), value)

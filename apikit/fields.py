"""Input fields that refuse instead of guess: a typo, a number where a string belongs or a time
without its offset is a 400 naming the field, never data silently changed or dropped."""

from __future__ import annotations

import contextlib
import difflib
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from kernel.text import json_type


class StrictSerializer(serializers.Serializer):
    """Unknown fields are an error, not silently dropped: a typo must not lose data. They are
    reported together with every other problem of the request, so a client fixes them all in
    one round, and each names the closest known field when there is one."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = self.unknown_fields(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**unknown, **exc.detail}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value

    def unknown_fields(self, data: Any) -> dict[str, list[str]]:
        if not isinstance(data, dict):
            return {}
        known = list(self.fields)
        return {
            name: [unknown_field_message(name, known)] for name in sorted(set(data) - set(known))
        }


def unknown_field_message(name: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(name), known, n=1)
    if close:
        return f"Unknown field. Did you mean '{close[0]}'?"
    return f"Unknown field. The fields are: {', '.join(sorted(known))}."


class QuerySerializer(StrictSerializer):
    """Query parameters. A QueryDict is read as a plain dict first: DRF treats a parameter
    given empty (``?after=``) as absent in a QueryDict, but it is a value, and a bad one."""

    #: Parameters that may be repeated (``?status=a&status=b``); the others take one value.
    repeatable: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "getlist"):
            data = {
                key: data.getlist(key) if key in self.repeatable else data.get(key) for key in data
            }
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """A choice whose error names the allowed values (DRF's only says it is not valid)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        allowed = ", ".join(str(choice) for choice in self.choices)
        self.error_messages["invalid_choice"] = f'"{{input}}" is not one of: {allowed}.'


class MultipleChoiceListField(serializers.ListField):
    """A query parameter given several times or comma-separated: ``?status=a&status=b,c``."""

    def to_internal_value(self, data: Any) -> list[Any]:
        values = [v.strip() for item in data for v in str(item).split(",") if v.strip()]
        return super().to_internal_value(values)


class _StringsOnly:
    """JSON strings only: DRF's string fields turn ``123`` into ``"123"``, which hides a
    client's bug (and its data's type) instead of reporting it."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            # Not the field's own "invalid" (a regex or URL field's says "does not match").
            raise serializers.ValidationError(
                f"Must be a string, not {json_type(data)}.", code="invalid"
            )
        return super().to_internal_value(data)


class StrictCharField(_StringsOnly, serializers.CharField):
    pass


class StrictRegexField(_StringsOnly, serializers.RegexField):
    pass


class StrictEmailField(_StringsOnly, serializers.EmailField):
    pass


class StrictURLField(_StringsOnly, serializers.URLField):
    pass


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only; DRF's BooleanField also takes ``"true"``, ``1``,
    ``"on"``, ``"yes"``..."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField also takes ``5.0``, ``1e1`` and ``"5"``, which
    hides a client's bug (a float or a string where a count belongs) instead of reporting it."""

    default_error_messages = {
        "not_whole": "Must be an integer, written without a decimal point or exponent.",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float):
            self.fail("not_whole")
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(
                f"Must be an integer, not {json_type(data)}.", code="invalid"
            )
        return super().to_internal_value(data)


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset (``Z``, ``+02:00``). DRF would read a time without one
    in the server's time zone: a guess about what the client meant."""

    default_error_messages = {
        "naive": "Include a time zone offset, for example 2026-12-01T09:00:00Z.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            parsed = None
            with contextlib.suppress(ValueError):  # a bad date: DRF's own message below
                parsed = parse_datetime(value)
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)

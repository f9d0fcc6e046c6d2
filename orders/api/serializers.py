"""Input and output shapes of the API. Limits come from the domain rules, so the API, the
admin and the workers agree on what a valid order is."""

from __future__ import annotations

import contextlib
import difflib
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from orders.domain import rules
from orders.domain.model import (
    CATEGORIES,
    Contact,
    Order,
    Priority,
    TimeWindow,
    Visibility,
    entry_event_type,
)
from orders.domain.rules import OrderInput
from orders.domain.sla import SlaClock
from orders.domain.workflow import STATUSES
from orders.events.contract import isoformat, order_to_json
from orders.repository.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


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


class StrictChoiceField(serializers.ChoiceField):
    """A choice whose error names the allowed values (DRF's only says it is not valid)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        allowed = ", ".join(str(choice) for choice in self.choices)
        self.error_messages["invalid_choice"] = f'"{{input}}" is not one of: {allowed}.'


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


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "a " + type(value).__name__


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


class ContactSerializer(StrictSerializer):
    name = StrictCharField(max_length=rules.CONTACT_FIELD_MAX, required=False, allow_blank=True)
    phone = StrictCharField(max_length=rules.CONTACT_FIELD_MAX, required=False, allow_blank=True)
    email = StrictEmailField(max_length=rules.CONTACT_FIELD_MAX, required=False, allow_blank=True)


class WindowSerializer(StrictSerializer):
    start = StrictDateTimeField()
    end = StrictDateTimeField()


class OrderCreateSerializer(StrictSerializer):
    title = StrictCharField(max_length=rules.TITLE_MAX)
    category = StrictChoiceField(choices=CATEGORIES)
    priority = StrictChoiceField(choices=[p.value for p in Priority], default=Priority.NORMAL.value)
    site = StrictCharField(max_length=rules.SITE_MAX)
    # Taken exactly as sent: trimming "WO-1\n" would store another reference than the
    # client's (and find its order under a key it never sent).
    external_reference = StrictRegexField(
        rules.REFERENCE_PATTERN,
        max_length=rules.REFERENCE_MAX,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        error_messages={"invalid": rules.REFERENCE_PROBLEM},
    )
    description = StrictCharField(
        max_length=rules.DESCRIPTION_MAX, required=False, allow_blank=True
    )
    contact = ContactSerializer(required=False, allow_null=True)
    requested_window = WindowSerializer(required=False, allow_null=True)
    metadata = serializers.DictField(
        required=False,
        help_text=(
            f"Your own data, returned as sent: at most {rules.METADATA_MAX_KEYS} keys and "
            f"{rules.METADATA_MAX_BYTES} bytes as JSON."
        ),
    )

    def to_input(self) -> OrderInput:
        data = self.validated_data
        contact = data.get("contact")
        window = data.get("requested_window")
        return OrderInput(
            title=data["title"],
            category=data["category"],
            priority=data["priority"],
            site=data["site"],
            external_reference=data.get("external_reference"),
            description=data.get("description", ""),
            contact=Contact(**{k: contact.get(k, "") for k in ("name", "phone", "email")})
            if contact
            else None,
            requested_window=TimeWindow(start=window["start"], end=window["end"])
            if window
            else None,
            metadata=data.get("metadata") or {},
        )


def order_representation(order: Order, *, request=None, sla: SlaClock | None = None) -> dict:
    """The whole order: its history (as the integrator may see it), where it stands against
    its SLA (``sla``: the service's clock for it, computed from the history) and links."""
    body = order_to_json(order)
    body["history"] = history_representation(order)
    body["sla"] = sla_representation(sla)
    body["links"] = links(order, request=request)
    return body


def sla_representation(clock: SlaClock | None) -> dict[str, Any] | None:
    if clock is None:
        return None
    return {
        "due_at": isoformat(clock.due_at),
        "budget_seconds": clock.budget.total_seconds(),
        "used_seconds": clock.used.total_seconds(),
        "paused_seconds": clock.paused.total_seconds(),
        "remaining_seconds": clock.remaining.total_seconds(),
        "running": clock.running,
        "paused": clock.paused_now,
        "breached": clock.breached,
        "calendar": clock.calendar.describe(),
    }


class NoteCreateSerializer(StrictSerializer):
    text = StrictCharField(max_length=rules.NOTE_MAX, trim_whitespace=False)
    visibility = StrictChoiceField(
        choices=[str(v) for v in Visibility], required=False, default=str(Visibility.PUBLIC)
    )


def links(order: Order, *, request=None) -> dict[str, str]:
    paths = {
        "self": f"/v1/orders/{order.id}",
        "events": f"/v1/orders/{order.id}/events",
        "transitions": f"/v1/orders/{order.id}/transitions",
        "notes": f"/v1/orders/{order.id}/notes",
    }
    if request is None:
        return paths
    return {name: request.build_absolute_uri(path) for name, path in paths.items()}


def summary_representation(order: Order, *, request=None) -> dict[str, Any]:
    """An order in a list page: everything but the history (list pages read the index,
    which does not hold it)."""
    body = order_to_json(order)
    body["links"] = links(order, request=request)
    return body


class MultipleChoiceListField(serializers.ListField):
    """A query parameter given several times or comma-separated: ``?status=a&status=b,c``."""

    def to_internal_value(self, data):
        values = [v.strip() for item in data for v in str(item).split(",") if v.strip()]
        return super().to_internal_value(values)


class QuerySerializer(StrictSerializer):
    """Query parameters. A QueryDict is read as a plain dict first: DRF treats a parameter
    given empty (``?after=``) as absent in a QueryDict, but it is a value, and a bad one."""

    #: Parameters that may be repeated (``?status=a&status=b``); the others take one value.
    repeatable: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            data = {
                key: data.getlist(key) if key in self.repeatable else data.get(key) for key in data
            }
        return super().to_internal_value(data)


#: Sites one listing may ask for (each is one term of DynamoDB's ``IN``, which takes 100).
LIST_SITES_MAX = 20


class OrderListQuerySerializer(QuerySerializer):
    status = MultipleChoiceListField(
        child=StrictChoiceField(choices=[str(s) for s in STATUSES]), required=False
    )
    priority = MultipleChoiceListField(
        child=StrictChoiceField(choices=[p.value for p in Priority]), required=False
    )
    category = MultipleChoiceListField(
        child=StrictChoiceField(choices=list(CATEGORIES)), required=False
    )
    # Repeated only, never split on commas: a site is free text ("Warehouse 7, Dock Road").
    # Trimmed in validate(), as sites are stored: "  " is then a site no order has, not a
    # 400 that no schema could predict (JSON Schema's whitespace is not Python's).
    site = serializers.ListField(
        child=StrictCharField(max_length=rules.SITE_MAX, trim_whitespace=False),
        required=False,
        max_length=LIST_SITES_MAX,
        help_text=(
            "Orders at this site, exactly as it was given (case counts; surrounding spaces "
            f"are ignored); repeat for several (at most {LIST_SITES_MAX}), not comma-separated."
        ),
    )
    external_reference = StrictCharField(
        max_length=rules.REFERENCE_MAX, required=False, trim_whitespace=False
    )
    created_after = StrictDateTimeField(required=False)
    created_before = StrictDateTimeField(required=False)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(max_length=2000, required=False)

    repeatable = ("status", "priority", "category", "site")

    def validate(self, attrs):
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and before <= after:
            raise serializers.ValidationError({"created_before": ["Must be after created_after."]})
        if "site" in attrs:
            attrs["site"] = [site.strip() for site in attrs["site"]]
        return attrs


class TransitionSerializer(StrictSerializer):
    to = StrictChoiceField(choices=[str(s) for s in STATUSES])
    reason = StrictCharField(
        max_length=rules.REASON_MAX, required=False, allow_blank=True, allow_null=True
    )


def history_representation(order: Order) -> list[dict[str, Any]]:
    """The order's changes as its integrator may see them: internal notes and attachments
    are staff's, so their entries are left out, and versions count without them
    (:attr:`Order.public_version`: 1, 2, 3 … with no gaps)."""
    shown = [h for h in order.history if not h.internal]
    return [
        {
            "event_id": h.event_id,
            "version": number,
            "type": entry_event_type(h),
            "from": str(h.from_status) if h.from_status else None,
            "to": str(h.to_status),
            "actor": h.actor.as_dict(),
            "reason": h.reason,
            "at": isoformat(h.at),
        }
        for number, h in enumerate(shown, start=1)
    ]


class EventFeedQuerySerializer(QuerySerializer):
    after = serializers.CharField(max_length=2000, required=False)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )

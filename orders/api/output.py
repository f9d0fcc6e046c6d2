"""What the orders API answers: one output serializer per body, which both renders it (the
views return its ``.data``) and documents it (drf-spectacular reads the same fields).

Each renders the domain's values as they are (``Order``, ``Note``, ``SlaClock`` ...); what
the order does not hold itself is resolved from the request's context: ``request`` (links
are absolute), ``sla`` (the selector's clock for the order) and ``download_url`` (the
attachment service's presigner). The order's own fields are exactly what the event contract
puts in an event's ``data.order`` (``orders.events.contract.order_to_json``): the test
``tests/integration/orders/test_api_shapes.py`` renders every event type's order, note,
attachment, visit and transition through these classes and compares. Docstrings and help
texts here are the API's documentation; class comments are for developers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rest_framework import serializers

from apikit.output import OutputSerializer, SecondsField, TimestampField
from orders.domain.model import HistoryEntry, Order, entry_event_type
from orders.domain.sla import SlaClock

from .choices import (
    ACTOR_KIND_CHOICES,
    CATEGORY_CHOICES,
    EVENT_TYPE_CHOICES,
    PRIORITY_CHOICES,
    STATUS_CHOICES,
    VISIBILITY_CHOICES,
)


def public_history(order: Order) -> list[HistoryEntry]:
    """The order's changes as its integrator may see them: internal notes and attachments
    are staff's, so their entries are left out, and versions count without them
    (:attr:`Order.public_version`: 1, 2, 3 … with no gaps)."""
    shown = (h for h in order.history if not h.internal)
    return [
        h if h.version == number else replace(h, version=number)
        for number, h in enumerate(shown, start=1)
    ]


# -- the parts of an order ---------------------------------------------------------------------


class ContactOutputSerializer(OutputSerializer):
    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True, help_text="Empty or an email address.")

    class Meta:
        ref_name = "Contact"


class TimeWindowOutputSerializer(OutputSerializer):
    start = TimestampField()
    end = TimestampField()

    class Meta:
        ref_name = "TimeWindow"


class PlaceRefOutputSerializer(OutputSerializer):
    """One of your sites or assets the order is at, as it was when the order was created: a
    later rename shows on new orders, not on this one."""

    id = serializers.UUIDField(help_text="Its id (`/v1/sites/{id}`, `/v1/assets/{id}`).")
    code = serializers.CharField(help_text="Your code for it.")
    name = serializers.CharField()

    class Meta:
        ref_name = "PlaceRef"


class MaintenanceRefOutputSerializer(OutputSerializer):
    """The maintenance plan that created the order, and the occurrence it is for."""

    plan_id = serializers.CharField(help_text="The plan's id.")
    plan_name = serializers.CharField(help_text="The plan's name when it created the order.")
    due_at = TimestampField(help_text="When the occurrence is due.")

    class Meta:
        ref_name = "MaintenanceRef"


class ActorOutputSerializer(OutputSerializer):
    kind = serializers.ChoiceField(choices=ACTOR_KIND_CHOICES)
    id = serializers.CharField(
        help_text="The integrator's slug, the staff user or the worker that made the change."
    )

    class Meta:
        ref_name = "Actor"


def change_fields() -> dict[str, serializers.Field]:
    """A change's own fields, as a history entry and an event's transition both hold them:
    the status before and after, who made it, why and when ("from" is a keyword, so these
    are built, not declared as class attributes)."""
    return {
        "from": serializers.ChoiceField(
            choices=STATUS_CHOICES,
            allow_null=True,
            help_text="null for the creation.",
            source="from_status",
        ),
        "to": serializers.ChoiceField(choices=STATUS_CHOICES, source="to_status"),
        "actor": ActorOutputSerializer(),
        "reason": serializers.CharField(allow_null=True, allow_blank=True),
        "at": TimestampField(),
    }


class HistoryEntryOutputSerializer(OutputSerializer):
    """One accepted change of status, oldest first; the first one is the creation."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a keyword: the fields are declared here, not as class attributes.
        return {
            "event_id": serializers.UUIDField(help_text="The id of the event published."),
            "version": serializers.IntegerField(
                min_value=1, help_text="The order's version after this change."
            ),
            "type": serializers.ChoiceField(
                choices=EVENT_TYPE_CHOICES, help_text="The type of the event published."
            ),
            **change_fields(),
        }

    def resolve_type(self, entry: HistoryEntry, context: Mapping[str, Any]) -> str:
        return entry_event_type(entry)

    class Meta:
        ref_name = "HistoryEntry"


class LinksOutputSerializer(OutputSerializer):
    # Rendered from the order: absolute URLs when the request is known, else paths.
    self = serializers.URLField(help_text="This order.")
    events = serializers.URLField(help_text="Its history.")
    transitions = serializers.URLField(help_text="Where to POST a change of status.")
    notes = serializers.URLField(help_text="Its notes.")

    def resolve_self(self, order: Order, context: Mapping[str, Any]) -> str:
        return _link(context, f"/v1/orders/{order.id}")

    def resolve_events(self, order: Order, context: Mapping[str, Any]) -> str:
        return _link(context, f"/v1/orders/{order.id}/events")

    def resolve_transitions(self, order: Order, context: Mapping[str, Any]) -> str:
        return _link(context, f"/v1/orders/{order.id}/transitions")

    def resolve_notes(self, order: Order, context: Mapping[str, Any]) -> str:
        return _link(context, f"/v1/orders/{order.id}/notes")

    class Meta:
        ref_name = "Links"


def _link(context: Mapping[str, Any], path: str) -> str:
    request = context.get("request")
    return path if request is None else request.build_absolute_uri(path)


class TechnicianOutputSerializer(OutputSerializer):
    id = serializers.CharField(help_text="The technician's code.")
    name = serializers.CharField(help_text="The display name.")

    class Meta:
        ref_name = "Technician"


class VisitOutputSerializer(OutputSerializer):
    """The latest visit booked for the order."""

    id = serializers.UUIDField()
    start = TimestampField(help_text="Start of the booked window.")
    end = TimestampField(help_text="End of the booked window.")
    technician = TechnicianOutputSerializer()
    scheduled_at = TimestampField()
    checked_in_at = TimestampField(allow_null=True)
    checked_out_at = TimestampField(allow_null=True)
    reschedules = serializers.IntegerField(min_value=0)

    class Meta:
        ref_name = "Visit"


class HoldOutputSerializer(OutputSerializer):
    # Rendered from the history entry that put the order on hold (Order.hold).
    reason = serializers.CharField(allow_null=True)
    since = TimestampField(source="at")
    resume_to = serializers.ChoiceField(
        choices=STATUS_CHOICES, allow_null=True, source="from_status"
    )

    class Meta:
        ref_name = "Hold"


class SlaOutputSerializer(OutputSerializer):
    """The SLA clock, computed from the history: only open statuses count, in the working
    hours of the order's calendar; time on hold does not."""

    due_at = TimestampField(
        allow_null=True,
        help_text=(
            "When the budget runs out, or ran out if `breached` (for an order done within "
            "its budget, when it would have). Null while the clock is paused (on hold), "
            "breached or not: `remaining_seconds` says what is left. The same value as the "
            "order's `sla_due_at`."
        ),
    )
    budget_seconds = SecondsField(
        source="budget",
        help_text="The priority's budget of working time (4 h urgent … 7 days low).",
    )
    used_seconds = SecondsField(source="used", help_text="Working time counted so far.")
    paused_seconds = SecondsField(source="paused", help_text="Wall time spent on hold so far.")
    remaining_seconds = SecondsField(
        source="remaining",
        help_text="Budget left (0 once breached); it stands still while the clock is paused.",
    )
    running = serializers.BooleanField(help_text="The clock is counting now (an open status).")
    paused = serializers.BooleanField(
        source="paused_now",
        help_text="Stopped for now (on hold): no due time until the order is resumed.",
    )
    breached = serializers.BooleanField(help_text="More than the budget has been used.")
    calendar = serializers.CharField(help_text="`24/7`, or days, hours and time zone.")

    def resolve_calendar(self, clock: SlaClock, context: Mapping[str, Any]) -> str:
        return clock.calendar.describe()

    class Meta:
        ref_name = "SlaClock"


# -- orders ------------------------------------------------------------------------------------


class OrderSummaryOutputSerializer(OutputSerializer):
    """An order in a list page: everything but the history and the SLA clock (``sla``),
    which is computed from the history; ``sla_due_at`` and ``sla_met`` are there. List pages
    read an index that holds neither the technician nor the visits, so ``technician``,
    ``visit`` and ``hold`` are null in them: read the order for those."""

    id = serializers.UUIDField()
    integrator = serializers.CharField(help_text="The slug of the integrator that owns it.")
    external_reference = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES)
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES)
    site = serializers.CharField(
        help_text=(
            "Where the work is, in your words; the site's name when you gave `site_id` or "
            "`asset_id` and no `site`."
        )
    )
    site_ref = PlaceRefOutputSerializer(
        allow_null=True,
        help_text=(
            "The site of yours the order is at (`site_id` on create, or the asset's site); "
            "null when you named none."
        ),
    )
    asset_ref = PlaceRefOutputSerializer(
        allow_null=True, help_text="The asset the work is on; null when you named none."
    )
    maintenance = MaintenanceRefOutputSerializer(
        allow_null=True,
        help_text="Set when a maintenance plan created the order; null otherwise.",
    )
    contact = ContactOutputSerializer(allow_null=True)
    requested_window = TimeWindowOutputSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    version = serializers.IntegerField(
        min_value=1,
        source="public_version",
        help_text=(
            "Bumped by every change you can see (staff's internal notes and attachments do "
            "not count); the ETag of the order."
        ),
    )
    created_at = TimestampField()
    updated_at = TimestampField(source="public_updated_at")
    status_changed_at = TimestampField(allow_null=True)
    sla_due_at = TimestampField(
        allow_null=True,
        help_text=(
            "Set when the order is accepted, from its priority and its team's working hours; "
            "the moment it was breached, if it was; null while the order is on hold (the "
            "clock is stopped: no due time until it is resumed, later by the time held). The "
            "same value as `sla.due_at` in `GET /v1/orders/{id}`."
        ),
    )
    assigned_team = serializers.CharField(allow_null=True)
    rejection_reason = serializers.CharField(allow_null=True, allow_blank=True)
    cancellation_reason = serializers.CharField(allow_null=True, allow_blank=True)
    started_at = TimestampField(allow_null=True)
    completed_at = TimestampField(allow_null=True)
    sla_met = serializers.BooleanField(
        allow_null=True, help_text="Whether it was completed by sla_due_at; null until then."
    )
    metadata = serializers.DictField(help_text="The integrator's own data, as sent.")
    technician = TechnicianOutputSerializer(
        allow_null=True,
        help_text="The team member the order is given to (null in list pages).",
    )
    visit = VisitOutputSerializer(
        allow_null=True, help_text="The latest visit (null in list pages)."
    )
    hold = HoldOutputSerializer(
        allow_null=True,
        help_text="While on hold: why, since when, and where it resumes (null in list pages).",
    )
    links = LinksOutputSerializer(source="*")

    class Meta:
        ref_name = "OrderSummary"


class OrderOutputSerializer(OrderSummaryOutputSerializer):
    """An order with its full history."""

    history = HistoryEntryOutputSerializer(many=True)
    sla = SlaOutputSerializer(
        allow_null=True,
        help_text="Where the order stands against its SLA; null until it is accepted.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["links"] = fields.pop("links")  # last, after history and sla, as in the body
        return fields

    def resolve_history(self, order: Order, context: Mapping[str, Any]) -> list[HistoryEntry]:
        return public_history(order)

    def resolve_sla(self, order: Order, context: Mapping[str, Any]) -> SlaClock | None:
        return context.get("sla")

    class Meta:
        ref_name = "Order"


class OrderPageOutputSerializer(OutputSerializer):
    results = OrderSummaryOutputSerializer(many=True, help_text="Newest first.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
    )
    next = serializers.URLField(
        allow_null=True, help_text="The URL of the next page (same filters); null on the last."
    )

    class Meta:
        ref_name = "OrderPage"


class OrderEventsOutputSerializer(OutputSerializer):
    # Rendered from the order: its id and its public history.
    order_id = serializers.UUIDField(source="id")
    results = HistoryEntryOutputSerializer(many=True, help_text="Oldest first.")

    def resolve_results(self, order: Order, context: Mapping[str, Any]) -> list[HistoryEntry]:
        return public_history(order)

    class Meta:
        ref_name = "OrderEvents"


# -- notes ------------------------------------------------------------------------------------


class AuthorOutputSerializer(OutputSerializer):
    # Rendered from a note or an attachment: its author and the name shown for them.
    kind = serializers.ChoiceField(choices=ACTOR_KIND_CHOICES, source="author.kind")
    id = serializers.CharField(source="author.id")
    name = serializers.CharField(source="author_name")

    class Meta:
        ref_name = "Author"


class NoteOutputSerializer(OutputSerializer):
    id = serializers.UUIDField()
    text = serializers.CharField()
    visibility = serializers.ChoiceField(choices=VISIBILITY_CHOICES)
    author = AuthorOutputSerializer(source="*")
    at = TimestampField()

    class Meta:
        ref_name = "Note"


class NotePageOutputSerializer(OutputSerializer):
    order_id = serializers.CharField()
    results = NoteOutputSerializer(many=True, help_text="Oldest first; public notes only.")

    class Meta:
        ref_name = "NotePage"

"""The events the API hands out (the feed, ``/v1/events``) and POSTs to webhooks, as output
serializers built from the same parts as the orders API's bodies.

The event contract (``orders.events.contract``, framework-free: the relay and the workers use
it) builds each event; the feed returns the stored documents as they are (``verbatim``), so
that what an integrator reads is byte for byte what was published. These classes document
them, and they render too: ``tests/integration/orders/test_api_shapes.py`` renders an
``OrderEvent`` of every type through :class:`EventOutputSerializer` and requires exactly the
contract's document, so the documentation, the API's order and the contract cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField

from apikit.output import OutputSerializer, TimestampField
from orders.domain.model import Attachment, HistoryEntry, Note, OrderEvent, Visit
from orders.events import contract

from .attachment_output import EventAttachmentOutputSerializer
from .choices import EVENT_TYPE_CHOICES, EVENT_VISIBILITY_CHOICES
from .output import (
    NoteOutputSerializer,
    OrderSummaryOutputSerializer,
    VisitOutputSerializer,
    change_fields,
)


class EventOrderOutputSerializer(OrderSummaryOutputSerializer):
    """The order as an event carries it: the order after the change, with its technician,
    visit and hold (no links, no history: the events are the history)."""

    links = None

    class Meta:
        ref_name = "EventOrder"


class EventTransitionOutputSerializer(OutputSerializer):
    """What changed: the status before and after (the same for a note, a file or a visit),
    who did it, why and when."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Rendered from the change's history entry.
        return change_fields()

    class Meta:
        ref_name = "EventTransition"


def _subject(event: OrderEvent, kind: type) -> Any:
    """The event's subject if it is a ``kind``; otherwise the member is left out."""
    if not isinstance(event.subject, kind):
        raise SkipField
    return event.subject


class EventDataOutputSerializer(OutputSerializer):
    # Rendered from the OrderEvent.
    order = EventOrderOutputSerializer()
    transition = EventTransitionOutputSerializer()
    note = NoteOutputSerializer(required=False, help_text="In order.note_added only.")
    attachment = EventAttachmentOutputSerializer(
        required=False, help_text="In order.attachment_added only."
    )
    visit = VisitOutputSerializer(
        required=False, help_text="In order.visit_scheduled and order.visit_rescheduled only."
    )

    def resolve_transition(self, event: OrderEvent, context: Mapping[str, Any]) -> HistoryEntry:
        return event.history_entry

    def resolve_note(self, event: OrderEvent, context: Mapping[str, Any]) -> Note:
        return _subject(event, Note)

    def resolve_attachment(self, event: OrderEvent, context: Mapping[str, Any]) -> Attachment:
        return _subject(event, Attachment)

    def resolve_visit(self, event: OrderEvent, context: Mapping[str, Any]) -> Visit:
        return _subject(event, Visit)

    class Meta:
        ref_name = "EventData"


class EventOutputSerializer(OutputSerializer):
    """An event: CloudEvents 1.0 JSON, exactly as published on the topic, returned by the feed
    and POSTed to webhook endpoints (docs/events.md, docs/webhooks.md)."""

    specversion = serializers.ChoiceField(choices=[contract.SPEC_VERSION])
    id = serializers.UUIDField(help_text="Unique per event: skip one already seen.")
    source = serializers.CharField(help_text="`urn:work-order-portal:orders`.")
    type = serializers.ChoiceField(choices=EVENT_TYPE_CHOICES)
    subject = serializers.UUIDField(source="order.id", help_text="The order's id.")
    time = TimestampField(source="occurred_at")
    datacontenttype = serializers.ChoiceField(choices=["application/json"])
    dataschema = serializers.CharField()
    eventversion = serializers.CharField(help_text="`1`; a breaking change bumps it.")
    visibility = serializers.ChoiceField(
        choices=EVENT_VISIBILITY_CHOICES, help_text="Integrators only ever see public events."
    )
    data = EventDataOutputSerializer(source="*")

    # The envelope's constants are the contract's.
    def resolve_specversion(self, event: OrderEvent, context: Mapping[str, Any]) -> str:
        return contract.SPEC_VERSION

    def resolve_source(self, event: OrderEvent, context: Mapping[str, Any]) -> str:
        return contract.EVENT_SOURCE

    def resolve_datacontenttype(self, event: OrderEvent, context: Mapping[str, Any]) -> str:
        return "application/json"

    def resolve_dataschema(self, event: OrderEvent, context: Mapping[str, Any]) -> str:
        return contract.DATA_SCHEMA

    def resolve_eventversion(self, event: OrderEvent, context: Mapping[str, Any]) -> str:
        return contract.EVENT_VERSION

    def resolve_visibility(self, event: OrderEvent, context: Mapping[str, Any]) -> str:
        return str(contract.visibility_of(event))

    class Meta:
        ref_name = "Event"


class EventFeedOutputSerializer(OutputSerializer):
    results = EventOutputSerializer(
        many=True,
        help_text=(
            "The events, oldest first, each exactly as published on the topic and POSTed to "
            "webhooks (CloudEvents 1.0 JSON, see docs/events.md)."
        ),
    )
    next_cursor = serializers.CharField(
        help_text="Pass as `after` to read on; the same position when there was nothing new."
    )
    next = serializers.URLField(help_text="The URL to read on from (`after` set to next_cursor).")

    #: The stored documents, exactly as published (the test above proves their shape).
    verbatim = ("results",)

    class Meta:
        ref_name = "EventFeed"

"""What the webhook endpoints API accepts: an endpoint to register or change, and the
delivery log's query."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikit.fields import (
    QuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictRegexField,
    StrictSerializer,
    StrictURLField,
)
from orders.repository.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from webhooks.models import WebhookDelivery

from .choices import EVENT_TYPE_CHOICES, STATUS_CHOICES


@extend_schema_field(
    {
        "type": "boolean",
        "enum": [True],
        "description": "Only `true`: enables a disabled endpoint again. To stop deliveries, "
        "delete the endpoint.",
    }
)
class EnableField(serializers.Field):
    """Only the JSON ``true``: not ``"true"``, ``1`` or ``"on"`` (DRF's BooleanField takes
    those), and not ``false``, which would have nothing to do."""

    default_error_messages = {
        "invalid": "Must be true (a JSON boolean); delete the endpoint to stop deliveries."
    }

    def to_internal_value(self, data: Any) -> bool:
        if data is not True:
            self.fail("invalid")
        return True

    def to_representation(self, value: Any) -> bool:
        return bool(value)


class EndpointInputSerializer(StrictSerializer):
    url = StrictURLField(max_length=500)
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    statuses = serializers.ListField(
        child=StrictChoiceField(choices=STATUS_CHOICES), required=False, max_length=20
    )
    event_types = serializers.ListField(
        child=StrictChoiceField(choices=EVENT_TYPE_CHOICES), required=False, max_length=20
    )


class EndpointUpdateSerializer(EndpointInputSerializer):
    url = StrictURLField(max_length=500, required=False)
    enabled = EnableField(required=False)


class DeliveryListQuerySerializer(QuerySerializer):
    """Paged like the orders: ``limit`` (50, at most 200) and the ``cursor`` of the page before
    (``before`` is the older spelling of the same position, kept for existing clients)."""

    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = StrictRegexField(r"^[1-9][0-9]{0,18}$", required=False)
    before = serializers.IntegerField(min_value=1, required=False)
    state = StrictChoiceField(choices=[s for s, _ in WebhookDelivery.STATES], required=False)

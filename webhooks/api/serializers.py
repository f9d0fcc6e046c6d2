"""Input and output shapes of the webhook endpoints API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.api.serializers import (
    QuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictRegexField,
    StrictSerializer,
    StrictURLField,
)
from orders.domain.model import EventType
from orders.domain.workflow import STATUSES
from orders.events.contract import isoformat
from orders.repository.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from webhooks.models import WebhookDelivery, WebhookEndpoint

STATUS_CHOICES = [str(s) for s in STATUSES]
EVENT_TYPE_CHOICES = [t.value for t in EventType]


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


def endpoint_representation(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    body = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "statuses": endpoint.statuses,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason or None,
        "created_at": isoformat(endpoint.created_at),
    }
    if secret:
        body["secret"] = endpoint.secret  # only in the answer to the create request
    return body


def delivery_representation(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "order_id": delivery.order_id,
        "status": delivery.status,
        "state": delivery.state,
        "created_at": isoformat(delivery.created_at),
        "delivered_at": isoformat(delivery.delivered_at),
        "next_attempt_at": isoformat(delivery.next_attempt_at)
        if delivery.state == WebhookDelivery.PENDING
        else None,
        "attempts": [
            {
                "at": isoformat(a.attempted_at),
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error or None,
            }
            for a in delivery.attempts.all()
        ],
    }


class DeliveryListQuerySerializer(QuerySerializer):
    """Paged like the orders: ``limit`` (50, at most 200) and the ``cursor`` of the page before
    (``before`` is the older spelling of the same position, kept for existing clients)."""

    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = StrictRegexField(r"^[1-9][0-9]{0,18}$", required=False)
    before = serializers.IntegerField(min_value=1, required=False)
    state = StrictChoiceField(choices=[s for s, _ in WebhookDelivery.STATES], required=False)

"""Input and output shapes of the webhook endpoints API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from orders.domain.model import EventType
from orders.domain.workflow import STATUSES
from orders.events.contract import isoformat
from orders.models import WebhookDelivery, WebhookEndpoint

from .serializers import StrictSerializer

STATUS_CHOICES = [str(s) for s in STATUSES]
EVENT_TYPE_CHOICES = [t.value for t in EventType]


class EndpointInputSerializer(StrictSerializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=STATUS_CHOICES), required=False, max_length=20
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES), required=False, max_length=20
    )


class EndpointUpdateSerializer(EndpointInputSerializer):
    url = serializers.URLField(max_length=500, required=False)
    enabled = serializers.BooleanField(required=False)

    def validate_enabled(self, value: bool) -> bool:
        if value is False:
            raise serializers.ValidationError("Delete the endpoint to stop deliveries.")
        return value


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


class DeliveryListQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    before = serializers.IntegerField(min_value=1, required=False)
    state = serializers.ChoiceField(choices=[s for s, _ in WebhookDelivery.STATES], required=False)

"""What the webhook endpoints API answers: one output serializer per body, which both renders
it (the views return its ``.data``) and documents it; rendered from the models."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rest_framework import serializers

from apikit.output import OutputSerializer, TimestampField
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

from .choices import EVENT_TYPE_CHOICES, STATUS_CHOICES


class EndpointOutputSerializer(OutputSerializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    description = serializers.CharField(allow_blank=True)
    statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=STATUS_CHOICES), help_text="Empty: every status."
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPE_CHOICES),
        help_text="Empty: every event type.",
    )
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(
        allow_null=True, help_text="Why deliveries stopped, when the endpoint is disabled."
    )
    created_at = TimestampField()

    def resolve_disabled_reason(
        self, endpoint: WebhookEndpoint, context: Mapping[str, Any]
    ) -> str | None:
        return endpoint.disabled_reason or None

    class Meta:
        ref_name = "Endpoint"


class CreatedEndpointOutputSerializer(EndpointOutputSerializer):
    # The answer to the create request only: the one place the secret is shown.
    secret = serializers.CharField(
        allow_null=True,
        help_text=(
            "`whsec_…`: verifies the signatures. Shown in this answer only: null in a replay "
            "of it (same `Idempotency-Key`), which says so in `Idempotent-Redacted`. Lost it? "
            "Delete the endpoint and register it again."
        ),
    )

    class Meta:
        ref_name = "CreatedWebhookEndpoint"


class EndpointListOutputSerializer(OutputSerializer):
    results = EndpointOutputSerializer(many=True)

    class Meta:
        ref_name = "EndpointList"


class AttemptOutputSerializer(OutputSerializer):
    at = TimestampField(source="attempted_at")
    status_code = serializers.IntegerField(allow_null=True, help_text="Null if no answer.")
    latency_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)

    def resolve_error(self, attempt: WebhookAttempt, context: Mapping[str, Any]) -> str | None:
        return attempt.error or None

    class Meta:
        ref_name = "Attempt"


class DeliveryOutputSerializer(OutputSerializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField(help_text="Also sent as `webhook-id`.")
    event_type = serializers.ChoiceField(choices=EVENT_TYPE_CHOICES)
    order_id = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    state = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    created_at = TimestampField()
    delivered_at = TimestampField(allow_null=True)
    next_attempt_at = TimestampField(allow_null=True)
    attempts = AttemptOutputSerializer(many=True)

    def resolve_next_attempt_at(
        self, delivery: WebhookDelivery, context: Mapping[str, Any]
    ) -> datetime | None:
        # Only a pending delivery is due again; a finished one shows none.
        return delivery.next_attempt_at if delivery.state == WebhookDelivery.PENDING else None

    class Meta:
        ref_name = "Delivery"


class DeliveryPageOutputSerializer(OutputSerializer):
    results = DeliveryOutputSerializer(many=True, help_text="Newest first.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
    )
    next = serializers.URLField(
        allow_null=True, help_text="The URL of the next page (same filters); null on the last."
    )
    next_before = serializers.IntegerField(
        allow_null=True,
        help_text="Deprecated: the same position as `next_cursor`, for `before`.",
    )

    class Meta:
        ref_name = "DeliveryPage"

"""The OpenAPI description of the webhook endpoints API (documentation only, as in
``schema``): output serializers describing what ``webhook_serializers`` builds, and one
decorator per view method."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from orders.api.schema import (
    BODY_400,
    IDEMPOTENCY_KEY,
    LOCATION,
    RETRY_AFTER,
    STATUS_CHOICES,
    WWW_AUTHENTICATE,
    problem_code,
    problems,
    replayed_header,
    response_header,
)
from webhooks.api.serializers import (
    EVENT_TYPE_CHOICES,
    DeliveryListQuerySerializer,
    EndpointInputSerializer,
    EndpointUpdateSerializer,
)


class EndpointSerializer(serializers.Serializer):
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
    created_at = serializers.DateTimeField()


class CreatedEndpointSerializer(EndpointSerializer):
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


class EndpointListSerializer(serializers.Serializer):
    results = EndpointSerializer(many=True)


class AttemptSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="Null if no answer.")
    latency_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField(help_text="Also sent as `webhook-id`.")
    event_type = serializers.ChoiceField(choices=EVENT_TYPE_CHOICES)
    order_id = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    state = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    attempts = AttemptSerializer(many=True)


class DeliveryPageSerializer(serializers.Serializer):
    results = DeliverySerializer(many=True, help_text="Newest first.")
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


ENDPOINT_ID = OpenApiParameter(
    "endpoint_id",
    int,
    OpenApiParameter.PATH,
    description="The endpoint's id. Another integrator's endpoint is a 404.",
)
DELIVERY_ID = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH)
NOT_FOUND = "No such endpoint (or delivery) of the caller (`not-found`)."
REDACTED = response_header(
    "Idempotent-Redacted",
    {"type": "string", "enum": ["secret"]},
    [201],
    "`secret` on a replay (`Idempotent-Replayed: true`): the secret is shown only in the "
    "first answer, so the replay has `secret: null`; absent otherwise.",
)
TAGS = ["webhooks"]
COMMON = [WWW_AUTHENTICATE, RETRY_AFTER]


list_endpoints = extend_schema(
    operation_id="list_webhook_endpoints",
    summary="List webhook endpoints",
    tags=TAGS,
    parameters=COMMON,
    responses={200: EndpointListSerializer, **problems(s401=None, s429=None)},
)

create_endpoint = extend_schema(
    operation_id="create_webhook_endpoint",
    summary="Register a webhook endpoint",
    description=(
        "Each status change of the caller's orders that the filters let through is POSTed "
        "there as the event, signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`). The signing secret is in this answer only: a replay (the same "
        "`Idempotency-Key` and body) answers the endpoint as it was created, with "
        "`secret: null` and `Idempotent-Redacted: secret`, even if it has been deleted since."
    ),
    tags=TAGS,
    request=EndpointInputSerializer,
    parameters=[IDEMPOTENCY_KEY, LOCATION, replayed_header([201, 400]), REDACTED, *COMMON],
    responses={
        201: OpenApiResponse(CreatedEndpointSerializer, description="Registered."),
        **problems(
            s400=(
                f"{BODY_400} A URL that is not plain http(s) (user info, backslashes, "
                "whitespace, a port outside 1-65535) or whose host is not a public address "
                "is refused."
            ),
            s401=None,
            s409=(
                "A request with the same key is still running "
                f"({problem_code('idempotency-in-progress')})."
            ),
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[
        OpenApiExample(
            "scheduled and completed only",
            value={
                "url": "https://hooks.example.com/portal",
                "statuses": ["scheduled", "completed"],
            },
            request_only=True,
        )
    ],
)

get_endpoint = extend_schema(
    operation_id="get_webhook_endpoint",
    summary="Get a webhook endpoint",
    tags=TAGS,
    parameters=[ENDPOINT_ID, *COMMON],
    responses={200: EndpointSerializer, **problems(s401=None, s404=NOT_FOUND, s429=None)},
)

update_endpoint = extend_schema(
    operation_id="update_webhook_endpoint",
    summary="Change a webhook endpoint, or enable it again",
    description=(
        'Send only what changes; `{"enabled": true}` resumes a disabled endpoint (`enabled` '
        "is only ever `true`: delete the endpoint to stop deliveries). A new URL is checked as "
        "on registration."
    ),
    tags=TAGS,
    request=EndpointUpdateSerializer,
    parameters=[ENDPOINT_ID, *COMMON],
    responses={
        200: EndpointSerializer,
        **problems(s400=BODY_400, s401=None, s404=NOT_FOUND, s413=None, s415=None, s429=None),
    },
)

delete_endpoint = extend_schema(
    operation_id="delete_webhook_endpoint",
    summary="Delete a webhook endpoint",
    description="With its delivery log; deliveries not yet sent are dropped.",
    tags=TAGS,
    parameters=[ENDPOINT_ID, *COMMON],
    responses={204: None, **problems(s401=None, s404=NOT_FOUND, s429=None)},
)

list_deliveries = extend_schema(
    operation_id="list_webhook_deliveries",
    summary="The endpoint's delivery log",
    description="Deliveries newest first, each with every attempt made.",
    tags=TAGS,
    parameters=[ENDPOINT_ID, DeliveryListQuerySerializer, *COMMON],
    responses={
        200: DeliveryPageSerializer,
        **problems(
            s400="A bad query parameter (`invalid-input`).",
            s401=None,
            s404=NOT_FOUND,
            s429=None,
        ),
    },
)

redeliver = extend_schema(
    operation_id="redeliver_webhook",
    summary="Send a delivery again now",
    description="With a fresh retry schedule; the attempts made so far stay in the log.",
    tags=TAGS,
    request=None,
    parameters=[ENDPOINT_ID, DELIVERY_ID, *COMMON],
    responses={
        202: OpenApiResponse(DeliverySerializer, description="Queued for now."),
        **problems(s401=None, s404=NOT_FOUND, s429=None),
    },
)

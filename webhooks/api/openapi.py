"""The OpenAPI description of the webhook endpoints API: one decorator per view method; the
bodies are the output and input serializers themselves (``output``, ``input``), the words
every API shares come from ``apikit.openapi``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from apikit.openapi import (
    BODY_400,
    IDEMPOTENCY_KEY,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    problem_code,
    problems,
    replayed_header,
    response_header,
)

from .input import DeliveryListQuerySerializer, EndpointInputSerializer, EndpointUpdateSerializer
from .output import (
    CreatedEndpointOutputSerializer,
    DeliveryOutputSerializer,
    DeliveryPageOutputSerializer,
    EndpointListOutputSerializer,
    EndpointOutputSerializer,
)

LOCATION = response_header(
    "Location",
    {"type": "string"},
    [201],
    "The path of the new endpoint: `/v1/webhooks/{id}`.",
    required=True,
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
    responses={200: EndpointListOutputSerializer, **problems(s401=None, s429=None)},
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
        201: OpenApiResponse(CreatedEndpointOutputSerializer, description="Registered."),
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
    responses={200: EndpointOutputSerializer, **problems(s401=None, s404=NOT_FOUND, s429=None)},
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
        200: EndpointOutputSerializer,
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
        200: DeliveryPageOutputSerializer,
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
        202: OpenApiResponse(DeliveryOutputSerializer, description="Queued for now."),
        **problems(s401=None, s404=NOT_FOUND, s429=None),
    },
)

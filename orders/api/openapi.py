"""The orders API's OpenAPI description (drf-spectacular): one decorator per view method,
naming its parameters, headers and every answer it can give. The bodies are the output and
input serializers themselves (``output``, ``event_output``, ``input``); the words every API
shares come from ``apikit.openapi``. ``tests/e2e/test_fuzz_http.py`` checks every answer over
HTTP against the schema, ``test_openapi.py`` the schema against docs/openapi.yaml.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from apikit import openapi as kit
from apikit.openapi import (
    BODY_400,
    IDEMPOTENCY_KEY,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    problem_code,
    replayed_header,
    response_header,
)

from .event_output import EventFeedOutputSerializer
from .input import (
    EventFeedQuerySerializer,
    NoteCreateSerializer,
    OrderCreateSerializer,
    OrderListQuerySerializer,
    TransitionSerializer,
)
from .output import (
    NoteOutputSerializer,
    NotePageOutputSerializer,
    OrderEventsOutputSerializer,
    OrderOutputSerializer,
    OrderPageOutputSerializer,
)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <key>`` (integrators.authentication.ApiKeyAuthentication)."""

    target_class = "integrators.authentication.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "wop_<prefix>_<secret>",
            "description": (
                "An integrator's API key: `Authorization: Bearer wop_<prefix>_<secret>`. Keys "
                "are issued and revoked by staff; a missing, malformed, unknown or revoked key "
                "is a 401."
            ),
        }


# -- the orders' parameters, headers and refusals ----------------------------------------------

IF_MATCH = kit.if_match(
    'The `ETag` of the order as last seen (`"3"`; `W/"3"` and `3` are accepted too): the '
    "change is made only if the order is still at that version, otherwise 412 with its "
    "`current_version`. Staff's internal notes and attachments do not move the version, so "
    "they never make it stale. `*` or no header: no check (a change that lands first is "
    "no reason to refuse yours). Anything else is a 400."
)

IF_NONE_MATCH = kit.if_none_match(
    'The `ETag` of your copy (`"3"`, or several comma-separated, or `*`): `304` with no '
    "body while the order is still at that version."
)


def etag_header(codes: list[int]) -> OpenApiParameter:
    return response_header(
        "ETag",
        kit.ETAG_SCHEMA,
        codes,
        "The order's version; send it back as `If-Match` to move the order safely.",
        required=True,
    )


LOCATION = response_header(
    "Location",
    {"type": "string"},
    [201],
    "The path of the new order: `/v1/orders/{id}`.",
    required=True,
)

#: The standard refusals as the orders' operations give them.
ORDER_PROBLEMS = {
    404: f"No order with this id belongs to the caller ({problem_code('not-found')}).",
    412: (
        f"`If-Match` names another version than the order's ({problem_code('stale-version')}); "
        "`current_version` is the version now."
    ),
}


def problems(**descriptions: str | None) -> dict[tuple[int, str], OpenApiResponse]:
    """``apikit.openapi.problems`` with the orders' words for 404 and 412."""
    return kit.problems(ORDER_PROBLEMS, **descriptions)


ORDER_ID = OpenApiParameter(
    "order_id",
    {"type": "string", "format": "uuid"},
    OpenApiParameter.PATH,
    description=(
        "The order's id. An unknown id, or the id of another integrator's order, is a 404."
    ),
)


# -- the operations: one decorator per view method -----------------------------------------

CREATED_EXAMPLE = {
    "title": "Replace HVAC filter",
    "category": "hvac",
    "priority": "high",
    "site": "Store 12, 5th Ave",
    "external_reference": "WO-1001",
    "contact": {"name": "Dana", "phone": "+1 555 0100", "email": "dana@example.com"},
}

AT_ASSET_EXAMPLE = {
    "title": "Rooftop unit 2 is blowing warm air",
    "category": "hvac",
    "priority": "urgent",
    "asset_id": "0b4c8a1e-7f52-4d3a-9c61-2e8f0d9b7a35",
    "external_reference": "WO-1002",
}


list_orders = extend_schema(
    operation_id="list_orders",
    summary="List the caller's orders",
    description=(
        "The caller's orders, newest first, a page at a time: follow `next` (or pass "
        "`next_cursor` as `cursor` with the same filters) until it is null. Filters combine "
        "(an order must pass each); `status`, `priority` and `category` may be repeated or "
        "comma-separated, `site` (free text, commas included) only repeated, and an order "
        "passes a filter given several values if it has any of them. `site_id` and "
        "`asset_id` (one each) list the orders at one of your sites or on one asset, read "
        "from that place's own index. With "
        "`external_reference` the page holds at most that one order and there is no next page."
    ),
    tags=["orders"],
    parameters=[OrderListQuerySerializer, WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(OrderPageOutputSerializer, description="A page of orders."),
        **problems(
            s400=(
                f"A bad query parameter ({problem_code('invalid-input')}, unknown ones "
                f"too), or a cursor that is not one of this listing's "
                f"({problem_code('invalid-cursor')}); `errors` names the parameter."
            ),
            s401=None,
            s429=None,
        ),
    },
)


create_order = extend_schema(
    operation_id="create_order",
    summary="Create an order",
    description=(
        "Creates an order in `received`; the workers take it from there (accepted or "
        "rejected, then scheduled with a team). An `external_reference` is unique per "
        "integrator: a second order with the same one is a 409 naming the first. Send an "
        "`Idempotency-Key` to retry safely after a timeout. `site_id` and `asset_id` point "
        "the order at one of your sites and assets (checked before anything is stored: "
        "yours, the site active, the asset not retired and at that site or one under it); "
        "the order keeps their code and name as `site_ref` and `asset_ref`, and `site` "
        "(free text) is then optional."
    ),
    tags=["orders"],
    request=OrderCreateSerializer,
    parameters=[
        IDEMPOTENCY_KEY,
        etag_header([201]),
        LOCATION,
        replayed_header([201, 400, 409, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        201: OpenApiResponse(
            OrderOutputSerializer, description="Created (or the replay of its creation)."
        ),
        **problems(
            s400=BODY_400,
            s401=None,
            s409=(
                "Another order of the caller has this `external_reference` "
                f"({problem_code('duplicate-reference')}, with `existing_order`), or a "
                "request with the same `Idempotency-Key` is still being processed "
                f"({problem_code('idempotency-in-progress')}, with `Retry-After`)."
            ),
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[
        OpenApiExample("an HVAC order", value=CREATED_EXAMPLE, request_only=True),
        OpenApiExample("an order on an asset", value=AT_ASSET_EXAMPLE, request_only=True),
    ],
)


get_order = extend_schema(
    operation_id="get_order",
    summary="Get an order",
    description=(
        "The order with its full history; its `ETag` is its version. With `If-None-Match` "
        "naming it, `304` and no body while the order is unchanged."
    ),
    tags=["orders"],
    parameters=[ORDER_ID, IF_NONE_MATCH, etag_header([200, 304]), WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(OrderOutputSerializer, description="The order."),
        304: OpenApiResponse(description="Unchanged since the `ETag` in `If-None-Match`."),
        **problems(s401=None, s404=None, s429=None),
    },
)


list_order_events = extend_schema(
    operation_id="list_order_events",
    summary="An order's history",
    description=(
        "Every accepted change of status, oldest first, with who made it and why; the "
        "first entry is the creation. The `ETag` is the order's version (`If-None-Match`: "
        "`304` while unchanged)."
    ),
    tags=["orders"],
    parameters=[ORDER_ID, IF_NONE_MATCH, etag_header([200, 304]), WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(OrderEventsOutputSerializer, description="The history."),
        304: OpenApiResponse(description="Unchanged since the `ETag` in `If-None-Match`."),
        **problems(s401=None, s404=None, s429=None),
    },
)


transition_order = extend_schema(
    operation_id="transition_order",
    summary="Move an order to another status",
    description=(
        "Integrators may cancel an open order (`cancelled`), start a scheduled one "
        "(`in_progress`) and complete a started one (`completed`); the workers make the "
        "other moves. Send the order's `ETag` as `If-Match` so that a move is made only on "
        "the version you saw, and an `Idempotency-Key` to retry safely."
    ),
    tags=["orders"],
    request=TransitionSerializer,
    parameters=[
        ORDER_ID,
        IF_MATCH,
        IDEMPOTENCY_KEY,
        etag_header([200]),
        replayed_header([200, 400, 404, 409, 412, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        200: OpenApiResponse(
            OrderOutputSerializer, description="Moved: the order at its new version."
        ),
        **problems(
            s400=f"{BODY_400} A malformed `If-Match` is an `invalid-input` naming `If-Match`.",
            s401=None,
            s404=None,
            s409=(
                "The caller may not make this move from the order's status "
                f"({problem_code('illegal-transition')}; `allowed` lists the moves it "
                "may make now), or a request with the same `Idempotency-Key` is still being "
                f"processed ({problem_code('idempotency-in-progress')}, with "
                "`Retry-After`)."
            ),
            s412=None,
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[
        OpenApiExample(
            "cancel",
            value={"to": "cancelled", "reason": "Customer called"},
            request_only=True,
        )
    ],
)


list_order_notes = extend_schema(
    operation_id="list_order_notes",
    summary="An order's notes",
    description=(
        "The order's public notes, oldest first: the caller's and those staff wrote for it. "
        "Staff's internal notes are not shown."
    ),
    tags=["orders"],
    parameters=[ORDER_ID, WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(NotePageOutputSerializer, description="The notes."),
        **problems(s401=None, s404=None, s429=None),
    },
)


add_order_note = extend_schema(
    operation_id="add_order_note",
    summary="Add a note to an order",
    description=(
        "A dated note on the order's timeline, seen by staff in the admin and published as "
        "`order.note_added`. Integrators' notes are public (`visibility: internal` is a 403). "
        "The order's version moves on (its `ETag` changes); `If-Match` refuses the note if "
        "the order changed since that version. Without it a change landing at the same moment "
        "(another note, a worker's move) never refuses yours."
    ),
    tags=["orders"],
    request=NoteCreateSerializer,
    parameters=[
        ORDER_ID,
        IF_MATCH,
        IDEMPOTENCY_KEY,
        replayed_header([201, 400, 403, 404, 409, 412, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        201: OpenApiResponse(NoteOutputSerializer, description="The note."),
        **problems(
            s400=BODY_400,
            s401=None,
            s403=f"Only staff add internal notes ({problem_code('forbidden')}).",
            s404=None,
            s409=(
                "A request with the same `Idempotency-Key` is still being processed "
                f"({problem_code('idempotency-in-progress')}, with `Retry-After`)."
            ),
            s412=None,
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[
        OpenApiExample("note", value={"text": "Access through the loading dock"}, request_only=True)
    ],
)


legacy_paths = extend_schema_view(
    get=extend_schema(
        operation_id="list_orders_legacy",
        summary="List the caller's orders (deprecated path)",
        description="The same as `GET /v1/orders`, at the original design's path.",
        deprecated=True,
    ),
    post=extend_schema(
        operation_id="create_order_legacy",
        summary="Create an order (deprecated path)",
        description=(
            "The original design's path, kept so that its clients keep working: the same as "
            "`POST /v1/orders`. Use `POST /v1/orders`."
        ),
        deprecated=True,
    ),
)


event_feed = extend_schema(
    operation_id="event_feed",
    summary="Every event of the caller's orders, in order",
    description=(
        "Catch up, or replay from any point: start without `after` (the oldest event still "
        "kept, 30 days by default), then pass `next_cursor` as `after`. Events appear a few "
        "seconds after they happen, in the order the changes were stored: each order's "
        "events in version order, but not sorted by `time` across orders (a change decided "
        "first can be stored second). Resume with the cursor, never by `time`. After a rare "
        "internal retry an event may appear twice (same `id`)."
    ),
    tags=["events"],
    parameters=[EventFeedQuerySerializer, WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(EventFeedOutputSerializer, description="A page of events."),
        **problems(
            s400=(
                f"A bad parameter, or an `after` that is not a cursor of this feed "
                f"({problem_code('invalid-cursor')})."
            ),
            s401=None,
            s429=None,
        ),
    },
)

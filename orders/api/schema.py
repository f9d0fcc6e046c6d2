"""The OpenAPI contract (drf-spectacular): documentation only, nothing here runs a request.

The views return what ``serializers.order_representation`` and friends build; the output
serializers here describe those bodies field for field and are never used to render. Each
view method wears one decorator from the end of this module, which names its parameters,
headers and every answer it can give. The tests keep it honest: ``tests/e2e/test_fuzz_http.py``
checks every answer over HTTP against the schema, ``test_openapi.py`` the schema against
docs/openapi.yaml.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers

from orders.attachments import UPLOAD_ID
from orders.domain.model import CATEGORIES, EventType, Priority
from orders.domain.rules import FILENAME_MAX
from orders.domain.workflow import STATUSES, ActorKind

from .errors import PROBLEM_TYPE_BASE
from .idempotency import KEY_MAX
from .serializers import (
    EventFeedQuerySerializer,
    NoteCreateSerializer,
    OrderCreateSerializer,
    OrderListQuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictRegexField,
    StrictSerializer,
    TransitionSerializer,
)

PROBLEM_JSON = "application/problem+json"

# Enum components shared by every field with the same choices (SPECTACULAR_SETTINGS'
# ENUM_NAME_OVERRIDES names them): one OrderStatus, not StatusEnum, ToEnum and FromEnum.
STATUS_CHOICES = [str(s) for s in STATUSES]
CATEGORY_CHOICES = list(CATEGORIES)
PRIORITY_CHOICES = [p.value for p in Priority]
ACTOR_KIND_CHOICES = [k.value for k in ActorKind]
VISIBILITY_CHOICES = ["public", "internal"]
#: What an integrator's events can be (internal ones never reach it).
EVENT_VISIBILITY_CHOICES = ["public"]
EVENT_TYPE_CHOICES = [t.value for t in EventType]  # the same list as the webhooks'


# -- generator extensions ----------------------------------------------------------------------


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


class StrictSerializerScheme(OpenApiSerializerExtension):
    """Input serializers refuse unknown fields (400): say so with ``additionalProperties``."""

    target_class = "orders.api.serializers.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if schema.get("description") == get_doc(StrictSerializer):
            schema.pop("description")  # the base class's note for developers
        schema["additionalProperties"] = False
        return schema


#: Strings the API accepts hold no NUL character (DRF's CharField refuses them, 400).
NO_NUL_PATTERN = r"^[^\x00]*$"
#: The URLs a webhook endpoint may have (what Django's URLValidator and
#: webhooks.targets both take, as RFC 3986 URIs): http(s), a DNS name of two to four
#: labels, an optional port, then a path, query or fragment; no user info. IP literals are
#: accepted too, but the pattern keeps to names.
WEBHOOK_URL_PATTERN = (
    r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,24}"
    r"(:[1-9][0-9]{0,3})?([/?#](%[0-9A-Fa-f]{2}|[A-Za-z0-9._~:/?@!$&'()*+,;=-])*)?$"
)


def describe_accepted_text(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook (SPECTACULAR_SETTINGS): say in request bodies and parameters what
    the API refuses in strings, so that a client, or a schema-driven fuzzer, can tell a valid
    request: no NUL in plain strings, and the webhook URL's shape instead of ``format: uri``
    (which allows user info, any port and host names no resolver takes)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _describe_strings(component)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "path"):
                    _describe_strings(parameter.get("schema", {}))
    return result


def _describe_strings(schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not schema.keys() & {"enum", "pattern"}:
        if schema.get("format") == "uri":
            del schema["format"]
            schema["pattern"] = WEBHOOK_URL_PATTERN
        elif "format" not in schema:
            schema["pattern"] = NO_NUL_PATTERN
    for key in ("properties", "patternProperties"):
        for child in schema.get(key, {}).values():
            _describe_strings(child)
    for key in ("items", "additionalProperties"):
        _describe_strings(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            _describe_strings(child)


# -- response bodies, exactly as orders.api.serializers builds them ----------------------------


class ContactOutSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True, help_text="Empty or an email address.")

    class Meta:
        ref_name = "Contact"


class WindowOutSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    class Meta:
        ref_name = "TimeWindow"


class ActorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ACTOR_KIND_CHOICES)
    id = serializers.CharField(
        help_text="The integrator's slug, the staff user or the worker that made the change."
    )


class HistoryEntrySerializer(serializers.Serializer):
    """One accepted change of status, oldest first; the first one is the creation."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a keyword: the fields are declared here, not as class attributes.
        return {
            "event_id": serializers.UUIDField(help_text="The id of the event published."),
            "version": serializers.IntegerField(
                min_value=1, help_text="The order's version after this change."
            ),
            "from": serializers.ChoiceField(
                choices=STATUS_CHOICES, allow_null=True, help_text="null for the creation."
            ),
            "to": serializers.ChoiceField(choices=STATUS_CHOICES),
            "type": serializers.ChoiceField(
                choices=EVENT_TYPE_CHOICES, help_text="The type of the event published."
            ),
            "actor": ActorSerializer(),
            "reason": serializers.CharField(allow_null=True, allow_blank=True),
            "at": serializers.DateTimeField(),
        }


class LinksSerializer(serializers.Serializer):
    self = serializers.URLField(help_text="This order.")
    events = serializers.URLField(help_text="Its history.")
    transitions = serializers.URLField(help_text="Where to POST a change of status.")
    notes = serializers.URLField(help_text="Its notes.")


class TechnicianOutSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The technician's code.")
    name = serializers.CharField(help_text="The display name.")

    class Meta:
        ref_name = "Technician"


class VisitOutSerializer(serializers.Serializer):
    """The latest visit booked for the order."""

    id = serializers.UUIDField()
    start = serializers.DateTimeField(help_text="Start of the booked window.")
    end = serializers.DateTimeField(help_text="End of the booked window.")
    technician = TechnicianOutSerializer()
    scheduled_at = serializers.DateTimeField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    reschedules = serializers.IntegerField(min_value=0)

    class Meta:
        ref_name = "Visit"


class HoldOutSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField()
    resume_to = serializers.ChoiceField(choices=STATUS_CHOICES, allow_null=True)

    class Meta:
        ref_name = "Hold"


class SlaOutSerializer(serializers.Serializer):
    """The SLA clock, computed from the history: only open statuses count, in the working
    hours of the order's calendar; time on hold does not."""

    due_at = serializers.DateTimeField(
        allow_null=True,
        help_text=(
            "When the budget runs out, or ran out if `breached` (for an order done within "
            "its budget, when it would have). Null while the clock is paused (on hold), "
            "breached or not: `remaining_seconds` says what is left. The same value as the "
            "order's `sla_due_at`."
        ),
    )
    budget_seconds = serializers.FloatField(
        help_text="The priority's budget of working time (4 h urgent … 7 days low)."
    )
    used_seconds = serializers.FloatField(help_text="Working time counted so far.")
    paused_seconds = serializers.FloatField(help_text="Wall time spent on hold so far.")
    remaining_seconds = serializers.FloatField(
        help_text="Budget left (0 once breached); it stands still while the clock is paused."
    )
    running = serializers.BooleanField(help_text="The clock is counting now (an open status).")
    paused = serializers.BooleanField(
        help_text="Stopped for now (on hold): no due time until the order is resumed."
    )
    breached = serializers.BooleanField(help_text="More than the budget has been used.")
    calendar = serializers.CharField(help_text="`24/7`, or days, hours and time zone.")

    class Meta:
        ref_name = "SlaClock"


class AuthorSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ACTOR_KIND_CHOICES)
    id = serializers.CharField()
    name = serializers.CharField()


class NoteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()
    visibility = serializers.ChoiceField(choices=VISIBILITY_CHOICES)
    author = AuthorSerializer()
    at = serializers.DateTimeField()


class NotePageSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    results = NoteSerializer(many=True, help_text="Oldest first; public notes only.")


class OrderSummarySerializer(serializers.Serializer):
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
    site = serializers.CharField()
    contact = ContactOutSerializer(allow_null=True)
    requested_window = WindowOutSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    version = serializers.IntegerField(
        min_value=1,
        help_text=(
            "Bumped by every change you can see (staff's internal notes and attachments do "
            "not count); the ETag of the order."
        ),
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField(allow_null=True)
    sla_due_at = serializers.DateTimeField(
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
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    sla_met = serializers.BooleanField(
        allow_null=True, help_text="Whether it was completed by sla_due_at; null until then."
    )
    metadata = serializers.DictField(help_text="The integrator's own data, as sent.")
    technician = TechnicianOutSerializer(
        allow_null=True,
        help_text="The team member the order is given to (null in list pages).",
    )
    visit = VisitOutSerializer(allow_null=True, help_text="The latest visit (null in list pages).")
    hold = HoldOutSerializer(
        allow_null=True,
        help_text="While on hold: why, since when, and where it resumes (null in list pages).",
    )
    links = LinksSerializer()


class OrderSerializer(OrderSummarySerializer):
    """An order with its full history."""

    history = HistoryEntrySerializer(many=True)
    sla = SlaOutSerializer(
        allow_null=True,
        help_text="Where the order stands against its SLA; null until it is accepted.",
    )
    links = LinksSerializer()  # after history, as in the body


class OrderPageSerializer(serializers.Serializer):
    results = OrderSummarySerializer(many=True, help_text="Newest first.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
    )
    next = serializers.URLField(
        allow_null=True, help_text="The URL of the next page (same filters); null on the last."
    )


class OrderEventsSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    results = HistoryEntrySerializer(many=True, help_text="Oldest first.")


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document; the extension members appear only with their problem."""

    type = serializers.CharField(
        help_text=f"`{PROBLEM_TYPE_BASE}<code>`; the code says what went wrong."
    )
    title = serializers.CharField()
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(allow_blank=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=(
            "`invalid-input`, `malformed-body`, `invalid-cursor`: the messages for each bad "
            "field, named by its path (`contact.email`, `status[1]`, a header name, or `body`)."
        ),
    )
    allowed = serializers.ListField(
        child=serializers.ChoiceField(choices=STATUS_CHOICES),
        required=False,
        help_text="`illegal-transition`: the statuses the caller may move the order to now.",
    )
    current_version = serializers.IntegerField(
        required=False, help_text="`stale-version`: the order's version now (its ETag)."
    )
    existing_order = serializers.CharField(
        required=False,
        help_text="`duplicate-reference`: the path of the order that has the reference.",
    )

    class Meta:
        ref_name = "Problem"


# -- headers -------------------------------------------------------------------------------------

ETAG_SCHEMA = {"type": "string", "pattern": r'^"[0-9]+"$', "example": '"3"'}

#: Visible ASCII, inner spaces allowed (HTTP trims the ends): what ``str.isprintable`` accepts
#: of a header's ASCII.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": IDEMPOTENCY_KEY_PATTERN},
    OpenApiParameter.HEADER,
    description=(
        "Makes a retry safe: a request with the same key and the same body (method, path and "
        "JSON content) gets the first answer again, with `Idempotent-Replayed: true`, and is "
        "not carried out twice; the same key with another body is a 422. Keys are "
        f"1 to {KEY_MAX} printable characters, scoped to the integrator and remembered for "
        "24 hours."
    ),
)

#: ``*``, or a version as a strong or weak ETag or bare: ``"3"``, ``W/"3"``, ``3``.
IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]+"|[0-9]+)$'

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    description=(
        'The `ETag` of the order as last seen (`"3"`; `W/"3"` and `3` are accepted too): the '
        "change is made only if the order is still at that version, otherwise 412 with its "
        "`current_version`. Staff's internal notes and attachments do not move the version, so "
        "they never make it stale. `*` or no header: no check (a change that lands first is "
        "no reason to refuse yours). Anything else is a 400."
    ),
    examples=[OpenApiExample("version 3", value='"3"')],
)

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    {"type": "string"},
    OpenApiParameter.HEADER,
    description=(
        'The `ETag` of your copy (`"3"`, or several comma-separated, or `*`): `304` with no '
        "body while the order is still at that version."
    ),
    examples=[OpenApiExample("version 3", value='"3"')],
)


def response_header(name: str, schema: Any, codes: list[int], description: str, **kw):
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.HEADER,
        description=description,
        response=codes,
        **kw,
    )


def etag_header(codes: list[int]) -> OpenApiParameter:
    return response_header(
        "ETag",
        ETAG_SCHEMA,
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


def replayed_header(codes: list[int]) -> OpenApiParameter:
    return response_header(
        "Idempotent-Replayed",
        {"type": "string", "enum": ["true"]},
        codes,
        "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key`; absent otherwise.",
    )


RETRY_AFTER = response_header(
    "Retry-After",
    {"type": "integer", "minimum": 0},
    [409, 429],
    "Seconds to wait before retrying (429: until the rate allows another request; 409: only "
    "with `idempotency-in-progress`).",
)

WWW_AUTHENTICATE = response_header(
    "WWW-Authenticate",
    {"type": "string"},
    [401],
    'How to authenticate: `Bearer realm="work-order-portal"`.',
    required=True,
)


# -- error responses -------------------------------------------------------------------------


def problem_code(code: str) -> str:
    return f"`{code}`"


PROBLEM_DESCRIPTIONS = {
    401: (
        "No API key, an `Authorization` header that is not `Bearer <key>`, or an unknown or "
        f"revoked key ({problem_code('unauthenticated')})."
    ),
    404: f"No order with this id belongs to the caller ({problem_code('not-found')}).",
    412: (
        f"`If-Match` names another version than the order's ({problem_code('stale-version')}); "
        "`current_version` is the version now."
    ),
    413: (
        f"The body is larger than the limit (64 KiB by default; {problem_code('body-too-large')}"
        "); refused before it is read."
    ),
    414: (
        "The request line (method, path and query) is too long for the web server "
        f"({problem_code('request-line-too-long')})."
    ),
    415: (
        "The body is not `application/json`, or not in UTF-8 "
        f"({problem_code('unsupported-media-type')})."
    ),
    422: (
        "The `Idempotency-Key` was already used with another request "
        f"({problem_code('idempotency-key-reused')})."
    ),
    429: (
        "The integrator is over its request rate (all its keys together), or its address "
        "sent too many unknown API keys lately "
        f"({problem_code('rate-limited')}); `Retry-After` says how long to wait."
    ),
    431: (
        "Too many header fields, or one too long, for the web server "
        f"({problem_code('header-fields-too-large')})."
    ),
}

#: Refusals of the web server itself, before the API sees the request: any operation.
EVERY_OPERATION = {"s414": None, "s431": None}


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


def problems(**descriptions: str) -> dict[tuple[int, str], OpenApiResponse]:
    """Problem responses: ``problems(s400="...", s409="...")`` for the endpoint's own words,
    plus the standard ones named by status: ``problems(s401=None)``; 414 and 431 always."""
    responses = {}
    for key, description in {**descriptions, **EVERY_OPERATION}.items():
        code = int(key.removeprefix("s"))
        responses[(code, PROBLEM_JSON)] = problem(description or PROBLEM_DESCRIPTIONS[code])
    return responses


BODY_400 = (
    f"Invalid input: {problem_code('invalid-input')} with `errors` naming each bad field "
    f"(also a malformed `Idempotency-Key`), or {problem_code('malformed-body')} when the body "
    "is not JSON. Nothing is stored or published."
)

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


list_orders = extend_schema(
    operation_id="list_orders",
    summary="List the caller's orders",
    description=(
        "The caller's orders, newest first, a page at a time: follow `next` (or pass "
        "`next_cursor` as `cursor` with the same filters) until it is null. Filters combine "
        "(an order must pass each); `status`, `priority` and `category` may be repeated or "
        "comma-separated, `site` (free text, commas included) only repeated, and an order "
        "passes a filter given several values if it has any of them. With "
        "`external_reference` the page holds at most that one order and there is no next page."
    ),
    tags=["orders"],
    parameters=[OrderListQuerySerializer, WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(OrderPageSerializer, description="A page of orders."),
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
        "`Idempotency-Key` to retry safely after a timeout."
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
            OrderSerializer, description="Created (or the replay of its creation)."
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
    examples=[OpenApiExample("an HVAC order", value=CREATED_EXAMPLE, request_only=True)],
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
        200: OpenApiResponse(OrderSerializer, description="The order."),
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
        200: OpenApiResponse(OrderEventsSerializer, description="The history."),
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
        200: OpenApiResponse(OrderSerializer, description="Moved: the order at its new version."),
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
        200: OpenApiResponse(NotePageSerializer, description="The notes."),
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
        201: OpenApiResponse(NoteSerializer, description="The note."),
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


class EventOrderSerializer(OrderSummarySerializer):
    """The order as an event carries it: the order after the change, with its technician,
    visit and hold (no links, no history: the events are the history)."""

    links = None

    class Meta:
        ref_name = "EventOrder"


class EventTransitionSerializer(serializers.Serializer):
    """What changed: the status before and after (the same for a note, a file or a visit),
    who did it, why and when."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.ChoiceField(
                choices=STATUS_CHOICES, allow_null=True, help_text="null for the creation."
            ),
            "to": serializers.ChoiceField(choices=STATUS_CHOICES),
            "actor": ActorSerializer(),
            "reason": serializers.CharField(allow_null=True, allow_blank=True),
            "at": serializers.DateTimeField(),
        }

    class Meta:
        ref_name = "EventTransition"


class EventAttachmentSerializer(serializers.Serializer):
    """A file as events carry it: what it is, not where it is (ask the API for a download)."""

    id = serializers.CharField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(min_value=1)
    visibility = serializers.ChoiceField(choices=VISIBILITY_CHOICES)
    author = AuthorSerializer()
    at = serializers.DateTimeField()

    class Meta:
        ref_name = "EventAttachment"


class EventDataSerializer(serializers.Serializer):
    order = EventOrderSerializer()
    transition = EventTransitionSerializer()
    note = NoteSerializer(required=False, help_text="In order.note_added only.")
    attachment = EventAttachmentSerializer(
        required=False, help_text="In order.attachment_added only."
    )
    visit = VisitOutSerializer(
        required=False, help_text="In order.visit_scheduled and order.visit_rescheduled only."
    )

    class Meta:
        ref_name = "EventData"


class EventSerializer(serializers.Serializer):
    """An event: CloudEvents 1.0 JSON, exactly as published on the topic, returned by the feed
    and POSTed to webhook endpoints (docs/events.md, docs/webhooks.md)."""

    specversion = serializers.ChoiceField(choices=["1.0"])
    id = serializers.UUIDField(help_text="Unique per event: skip one already seen.")
    source = serializers.CharField(help_text="`urn:work-order-portal:orders`.")
    type = serializers.ChoiceField(choices=EVENT_TYPE_CHOICES)
    subject = serializers.UUIDField(help_text="The order's id.")
    time = serializers.DateTimeField()
    datacontenttype = serializers.ChoiceField(choices=["application/json"])
    dataschema = serializers.CharField()
    eventversion = serializers.CharField(help_text="`1`; a breaking change bumps it.")
    visibility = serializers.ChoiceField(
        choices=EVENT_VISIBILITY_CHOICES, help_text="Integrators only ever see public events."
    )
    data = EventDataSerializer()

    class Meta:
        ref_name = "Event"


class EventFeedSerializer(serializers.Serializer):
    results = EventSerializer(
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
        200: OpenApiResponse(EventFeedSerializer, description="A page of events."),
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


# -- attachments (orders/api/attachment_views.py) ------------------------------------------


class UploadCreateSerializer(StrictSerializer):
    """What the caller says about the file it will upload (the policy holds it to this)."""

    filename = StrictCharField(
        max_length=FILENAME_MAX,
        trim_whitespace=False,
        help_text="The file's name; only its last path part is kept.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # Limits read from settings at use, so the schema, the answer and the policy agree.
        fields = super().get_fields()
        fields["content_type"] = StrictChoiceField(
            choices=list(settings.ATTACHMENT_CONTENT_TYPES),
            help_text="One of the allowed types (ATTACHMENT_CONTENT_TYPES).",
        )
        fields["size"] = StrictIntegerField(
            min_value=1,
            max_value=settings.ATTACHMENT_MAX_BYTES,
            help_text=(
                "The file's exact size in bytes, 1 to `max_bytes` (ATTACHMENT_MAX_BYTES, 25 MiB "
                "by default): the form takes a file of this size only."
            ),
        )
        return fields


class UploadFinishSerializer(StrictSerializer):
    upload_id = StrictRegexField(
        UPLOAD_ID.pattern,
        help_text="The `upload_id` the upload form came with.",
        error_messages={"invalid": "Give the upload_id of an upload form."},
    )


class UploadTicketSerializer(serializers.Serializer):
    upload_id = serializers.CharField()
    url = serializers.URLField(help_text="POST the form here (multipart/form-data).")
    fields = serializers.DictField(
        child=serializers.CharField(),
        help_text="The form fields to send, in this order, followed by the `file` field last.",
    )
    expires_at = serializers.DateTimeField()
    max_bytes = serializers.IntegerField()


class AttachmentSerializer(serializers.Serializer):
    id = serializers.CharField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    visibility = serializers.ChoiceField(choices=VISIBILITY_CHOICES)
    author = AuthorSerializer()
    at = serializers.DateTimeField()
    download_url = serializers.URLField(help_text="A presigned GET, valid for a few minutes.")


class AttachmentPageSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    results = AttachmentSerializer(many=True)


#: Any idempotent operation's own 409.
IDEMPOTENCY_IN_PROGRESS = (
    "A request with the same `Idempotency-Key` is still being processed "
    f"({problem_code('idempotency-in-progress')}, with `Retry-After`)."
)

start_attachment_upload = extend_schema(
    operation_id="start_attachment_upload",
    summary="Get a form to upload a file to an order",
    description=(
        "A presigned S3 POST: send `fields` and then the file as `file` to `url` before "
        "`expires_at`, then finish with POST /v1/orders/{order_id}/attachments. The form only "
        "accepts a file of exactly the announced `size` and `content_type`, under its own key."
    ),
    tags=["attachments"],
    request=UploadCreateSerializer,
    parameters=[
        ORDER_ID,
        IDEMPOTENCY_KEY,
        replayed_header([201, 400, 404, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        201: OpenApiResponse(UploadTicketSerializer, description="The upload form."),
        **problems(
            s400=BODY_400,
            s401=None,
            s404=None,
            s409=IDEMPOTENCY_IN_PROGRESS,
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
)

finish_attachment_upload = extend_schema(
    operation_id="finish_attachment_upload",
    summary="Attach an uploaded file to the order",
    description=(
        "Checks the uploaded object against its form and records it "
        "(`order.attachment_added`). Finishing the same upload again returns the same "
        "attachment (200)."
    ),
    tags=["attachments"],
    request=UploadFinishSerializer,
    parameters=[
        ORDER_ID,
        IDEMPOTENCY_KEY,
        replayed_header([200, 201, 400, 404, 409, 415]),
        RETRY_AFTER,
        WWW_AUTHENTICATE,
    ],
    responses={
        201: OpenApiResponse(AttachmentSerializer, description="The attachment."),
        200: OpenApiResponse(AttachmentSerializer, description="Already attached."),
        **problems(
            s400=(
                f"{BODY_400} Also an uploaded file its form did not allow, with `errors` on "
                "`upload_id` saying why: of another size or type than announced, sent to "
                "another key or with other fields than the form's, or after the form expired. "
                "That file is deleted."
            ),
            s401=None,
            s404="No such order, or no upload of the caller's under `upload_id`.",
            s409=(
                f"Nothing uploaded yet ({problem_code('upload-missing')}, naming `upload_id`). "
                f"{IDEMPOTENCY_IN_PROGRESS}"
            ),
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
)

list_order_attachments = extend_schema(
    operation_id="list_order_attachments",
    summary="An order's attachments",
    description="The order's public attachments, oldest first, each with a download link.",
    tags=["attachments"],
    parameters=[ORDER_ID, WWW_AUTHENTICATE, RETRY_AFTER],
    responses={
        200: OpenApiResponse(AttachmentPageSerializer, description="The attachments."),
        **problems(s401=None, s404=None, s429=None),
    },
)

get_order_attachment = extend_schema(
    operation_id="get_order_attachment",
    summary="One attachment of an order",
    tags=["attachments"],
    parameters=[
        ORDER_ID,
        OpenApiParameter("attachment_id", str, OpenApiParameter.PATH),
        WWW_AUTHENTICATE,
        RETRY_AFTER,
    ],
    responses={
        200: OpenApiResponse(AttachmentSerializer, description="The attachment."),
        **problems(s401=None, s404=None, s429=None),
    },
)

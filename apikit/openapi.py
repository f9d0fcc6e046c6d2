"""What every API of the portal says the same way in its OpenAPI document (drf-spectacular):
problem responses, the headers of idempotent and conditional requests, the strings the API
refuses, and the kit's serializers described as they behave.

Each context's ``openapi`` module builds its operations from these; importing this module
registers the generator extensions below.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import get_doc
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .fields import StrictSerializer
from .idempotency import KEY_MAX
from .output import OutputSerializer
from .problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, documented_members

# -- the kit's serializers, described as they behave ---------------------------------------------


class StrictSerializerScheme(OpenApiSerializerExtension):
    """Input serializers refuse unknown fields (400): say so with ``additionalProperties``."""

    target_class = "apikit.fields.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if schema.get("description") == get_doc(StrictSerializer):
            schema.pop("description")  # the base class's note for developers
        schema["additionalProperties"] = False
        return schema


class OutputSerializerScheme(OpenApiSerializerExtension):
    """Output serializers are documented by their fields; the base class's docstring is a
    note for developers, not a description of every body without one of its own."""

    target_class = "apikit.output.OutputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if schema.get("description") == get_doc(OutputSerializer):
            schema.pop("description")
        return schema


# -- problem documents -------------------------------------------------------------------------


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

    def get_fields(self) -> dict[str, serializers.Field]:
        # The members the contexts registered with their problems (apikit.problems.register).
        return {**super().get_fields(), **copy.deepcopy(documented_members())}

    class Meta:
        ref_name = "Problem"


def problem_code(code: str) -> str:
    return f"`{code}`"


#: What each standard refusal means, whatever the operation (a context adds its own: the
#: orders' 404 and 412 say which order).
STANDARD_PROBLEMS = {
    401: (
        "No API key, an `Authorization` header that is not `Bearer <key>`, or an unknown or "
        f"revoked key ({problem_code('unauthenticated')})."
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


def problems(
    defaults: Mapping[int, str] | None = None, **descriptions: str | None
) -> dict[tuple[int, str], OpenApiResponse]:
    """Problem responses: ``problems(s400="...", s409="...")`` for the operation's own words,
    plus the standard ones named by status: ``problems(s401=None)`` (their words from
    ``defaults``, then :data:`STANDARD_PROBLEMS`); 414 and 431 always."""
    known = {**STANDARD_PROBLEMS, **(defaults or {})}
    responses = {}
    for key, description in {**descriptions, **EVERY_OPERATION}.items():
        code = int(key.removeprefix("s"))
        responses[(code, PROBLEM_CONTENT_TYPE)] = problem(description or known[code])
    return responses


BODY_400 = (
    f"Invalid input: {problem_code('invalid-input')} with `errors` naming each bad field "
    f"(also a malformed `Idempotency-Key`), or {problem_code('malformed-body')} when the body "
    "is not JSON. Nothing is stored or published."
)

#: Any idempotent operation's own 409.
IDEMPOTENCY_IN_PROGRESS = (
    "A request with the same `Idempotency-Key` is still being processed "
    f"({problem_code('idempotency-in-progress')}, with `Retry-After`)."
)


# -- headers -------------------------------------------------------------------------------------


def response_header(
    name: str, schema: Any, codes: list[int], description: str, **kwargs: Any
) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.HEADER,
        description=description,
        response=codes,
        **kwargs,
    )


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


def replayed_header(codes: list[int]) -> OpenApiParameter:
    return response_header(
        "Idempotent-Replayed",
        {"type": "string", "enum": ["true"]},
        codes,
        "`true` when this is the stored answer to an earlier request with the same "
        "`Idempotency-Key`; absent otherwise.",
    )


#: A version as an ETag: ``"3"``.
ETAG_SCHEMA = {"type": "string", "pattern": r'^"[0-9]+"$', "example": '"3"'}
#: ``*``, or a version as a strong or weak ETag or bare: ``"3"``, ``W/"3"``, ``3``.
IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]+"|[0-9]+)$'


def if_match(description: str) -> OpenApiParameter:
    """``If-Match`` with a version: the change is made only on the version the caller saw."""
    return OpenApiParameter(
        "If-Match",
        {"type": "string", "pattern": IF_MATCH_PATTERN},
        OpenApiParameter.HEADER,
        description=description,
        examples=[OpenApiExample("version 3", value='"3"')],
    )


def if_none_match(description: str) -> OpenApiParameter:
    """``If-None-Match``: ``304`` while the caller's copy is current."""
    return OpenApiParameter(
        "If-None-Match",
        {"type": "string"},
        OpenApiParameter.HEADER,
        description=description,
        examples=[OpenApiExample("version 3", value='"3"')],
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


# -- what the API refuses in strings -----------------------------------------------------------

#: Strings the API accepts hold no NUL character (DRF's CharField refuses them, 400).
NO_NUL_PATTERN = r"^[^\x00]*$"
#: The URLs the API takes (what Django's URLValidator takes, as RFC 3986 URIs; a context may
#: refuse more, as webhooks do private addresses): http(s), a DNS name of two to four labels,
#: an optional port, then a path, query or fragment; no user info. IP literals are accepted
#: too, but the pattern keeps to names.
HTTP_URL_PATTERN = (
    r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,24}"
    r"(:[1-9][0-9]{0,3})?([/?#](%[0-9A-Fa-f]{2}|[A-Za-z0-9._~:/?@!$&'()*+,;=-])*)?$"
)


def describe_accepted_text(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook (SPECTACULAR_SETTINGS): say in request bodies and parameters what
    the API refuses in strings, so that a client, or a schema-driven fuzzer, can tell a valid
    request: no NUL in plain strings, and the URL's shape instead of ``format: uri`` (which
    allows user info, any port and host names no resolver takes)."""
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
            schema["pattern"] = HTTP_URL_PATTERN
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

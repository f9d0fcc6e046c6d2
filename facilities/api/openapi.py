"""The sites API's OpenAPI description: one decorator per view method; the bodies are the
input and output serializers themselves (``input``, ``output``), the words every API shares
come from ``apikit.openapi``."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from apikit import openapi as kit
from apikit.openapi import (
    BODY_400,
    IDEMPOTENCY_IN_PROGRESS,
    IDEMPOTENCY_KEY,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    problem_code,
    replayed_header,
    response_header,
)
from facilities.domain.import_rows import CSV_COLUMNS, CSV_REQUIRED_COLUMNS

from .input import (
    SiteCreateSerializer,
    SiteImportSerializer,
    SiteListQuerySerializer,
    SiteUpdateSerializer,
)
from .output import SiteImportReportOutputSerializer, SiteOutputSerializer, SitePageOutputSerializer


class RequiredBodySchema(AutoSchema):
    """The import's body is required in either media type (drf-spectacular marks a body
    required only when a serializer has required fields, and a CSV file is not one)."""

    def _get_request_body(self, direction: str = "request") -> dict | None:
        body = super()._get_request_body(direction)
        if body:
            body["required"] = True
        return body


TAGS = ["sites"]
COMMON = [WWW_AUTHENTICATE, RETRY_AFTER]

SITE_ID = OpenApiParameter(
    "site_id",
    {"type": "string", "format": "uuid"},
    OpenApiParameter.PATH,
    description="The site's id. An unknown id, or the id of another integrator's site, is a 404.",
)
IF_MATCH = kit.if_match(
    'The `ETag` of the site as last seen (`"3"`; `W/"3"` and `3` are accepted too): the '
    "change is made only if the site is still at that version, otherwise 412 with its "
    "`current_version`. `*` or no header: no check. Anything else is a 400."
)
IF_NONE_MATCH = kit.if_none_match(
    'The `ETag` of your copy (`"3"`, or several comma-separated, or `*`): `304` with no '
    "body while the site is still at that version."
)
LOCATION = response_header(
    "Location",
    {"type": "string"},
    [201],
    "The path of the new site: `/v1/sites/{id}`.",
    required=True,
)


def etag_header(codes: list[int]) -> OpenApiParameter:
    return response_header(
        "ETag",
        kit.ETAG_SCHEMA,
        codes,
        "The site's version; send it back as `If-Match` to change the site safely.",
        required=True,
    )


SITE_PROBLEMS = {
    404: f"No site with this id belongs to the caller ({problem_code('not-found')}).",
    412: (
        f"`If-Match` names another version than the site's ({problem_code('stale-version')}); "
        "`current_version` is the version now."
    ),
}


def problems(**descriptions: str | None) -> dict[tuple[int, str], OpenApiResponse]:
    return kit.problems(SITE_PROBLEMS, **descriptions)


IF_MATCH_400 = "A malformed `If-Match` or `Idempotency-Key` (`invalid-input` naming it)."
EXAMPLE = {
    "code": "STORE-0012",
    "name": "Store 12, 5th Ave",
    "kind": "site",
    "parent_code": "REGION-NE",
    "address": {
        "line1": "512 5th Ave",
        "city": "New York",
        "region": "NY",
        "postal_code": "10036",
        "country": "US",
    },
    "time_zone": "America/New_York",
    "access_hours": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "07:00", "closes": "22:00"}
    ],
    "contacts": [{"name": "Dana Reyes", "role": "Store manager", "phone": "+1 555 0100"}],
}


list_sites = extend_schema(
    operation_id="list_sites",
    summary="List the caller's sites",
    description=(
        "The caller's active sites by code (`archived=true`: the archived ones instead), "
        "narrowed by the filters; `limit` per page (50, at most 200) and the opaque "
        "`cursor` of the page before, issued for these very filters."
    ),
    tags=TAGS,
    parameters=[SiteListQuerySerializer, *COMMON],
    responses={
        200: SitePageOutputSerializer,
        **problems(
            s400=(
                f"A bad query parameter ({problem_code('invalid-input')}), or a cursor not "
                f"issued for this listing ({problem_code('invalid-cursor')})."
            ),
            s401=None,
            s429=None,
        ),
    },
)

create_site = extend_schema(
    operation_id="create_site",
    summary="Create a site",
    description=(
        "A region, site, building or floor of the caller, with its own `code` (unique among "
        "the caller's sites, archived ones included). Its parent is named by `parent` (an id) "
        "or `parent_code`."
    ),
    tags=TAGS,
    request=SiteCreateSerializer,
    parameters=[
        IDEMPOTENCY_KEY,
        LOCATION,
        etag_header([201]),
        replayed_header([201, 400, 409]),
        *COMMON,
    ],
    responses={
        201: OpenApiResponse(SiteOutputSerializer, description="Created."),
        **problems(
            s400=(
                f"{BODY_400} Also a parent that is not the caller's, is archived or cannot "
                "take a site of this kind, and a time zone this server does not know."
            ),
            s401=None,
            s409=(
                f"The code is taken ({problem_code('duplicate-code')}, with `existing_site`), "
                f"or: {IDEMPOTENCY_IN_PROGRESS}"
            ),
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[OpenApiExample("a store under a region", value=EXAMPLE, request_only=True)],
)

get_site = extend_schema(
    operation_id="get_site",
    summary="Get a site",
    description="Its `ETag` is its version; with `If-None-Match`, `304` while unchanged.",
    tags=TAGS,
    parameters=[SITE_ID, IF_NONE_MATCH, etag_header([200, 304]), *COMMON],
    responses={
        200: SiteOutputSerializer,
        304: OpenApiResponse(description="Unchanged since the `ETag` in `If-None-Match`."),
        **problems(s401=None, s404=None, s429=None),
    },
)

update_site = extend_schema(
    operation_id="update_site",
    summary="Change a site",
    description=(
        "Send only what changes. `address` changes the parts it names, `access_hours` and "
        "`contacts` replace the lists, `parent` (or `parent_code`) null moves the site to the "
        "top. A change that changes nothing keeps the version. An archived site cannot be "
        "changed: restore it first."
    ),
    tags=TAGS,
    request=SiteUpdateSerializer,
    parameters=[SITE_ID, IF_MATCH, etag_header([200]), *COMMON],
    responses={
        200: SiteOutputSerializer,
        **problems(
            s400=(
                f"{BODY_400} Also a new parent that would make a loop or cannot take the site, "
                "and a new kind that the sites under it could not hang under. A malformed "
                "`If-Match` is an `invalid-input` naming `If-Match`."
            ),
            s401=None,
            s404=None,
            s409=(
                f"The new code is taken ({problem_code('duplicate-code')}), or the site is "
                f"archived ({problem_code('site-archived')})."
            ),
            s412=None,
            s413=None,
            s415=None,
            s429=None,
        ),
    },
)

archive_site = extend_schema(
    operation_id="archive_site",
    summary="Archive a site",
    description=(
        "Sites are archived, never deleted: an archived site keeps its code, leaves the list "
        "(`archived=true` lists it) and can be restored. Not while active sites are under it. "
        "Archiving an archived site changes nothing."
    ),
    tags=TAGS,
    request=None,
    parameters=[
        SITE_ID,
        IF_MATCH,
        IDEMPOTENCY_KEY,
        etag_header([200]),
        replayed_header([200]),
        *COMMON,
    ],
    responses={
        200: SiteOutputSerializer,
        **problems(
            s400=IF_MATCH_400,
            s401=None,
            s404=None,
            s409=(
                f"Something still needs the site ({problem_code('site-in-use')}, with "
                f"`reasons`), or: {IDEMPOTENCY_IN_PROGRESS}"
            ),
            s412=None,
            s422=None,
            s429=None,
        ),
    },
)

restore_site = extend_schema(
    operation_id="restore_site",
    summary="Restore an archived site",
    description="Active again, as it was; its parent must be active. An active site stays so.",
    tags=TAGS,
    request=None,
    parameters=[
        SITE_ID,
        IF_MATCH,
        IDEMPOTENCY_KEY,
        etag_header([200]),
        replayed_header([200]),
        *COMMON,
    ],
    responses={
        200: SiteOutputSerializer,
        **problems(
            s400=IF_MATCH_400,
            s401=None,
            s404=None,
            s409=(
                f"Its parent is archived ({problem_code('parent-archived')}), or: "
                f"{IDEMPOTENCY_IN_PROGRESS}"
            ),
            s412=None,
            s422=None,
            s429=None,
        ),
    },
)

CSV_EXAMPLE = (
    "code,name,kind,parent_code,line1,city,postal_code,country,time_zone\n"
    "REGION-NE,Northeast,region,,,,,,America/New_York\n"
    'STORE-0012,"Store 12, 5th Ave",site,REGION-NE,512 5th Ave,New York,10036,US,'
    "America/New_York\n"
)

import_sites = extend_schema(
    operation_id="import_sites",
    summary="Create or change many sites at once",
    description=(
        "Each site is matched by its `code`: a new code creates a site, a known one changes "
        "it, and a row that says what is stored already changes nothing. Each row stands "
        "alone: a row that breaks a rule is refused and reported with its row number and "
        "why, the others are stored. A parent named by code may be another row, before or "
        'after its children. The body is `{"sites": [...]}` (`application/json`) or a '
        f"`text/csv` file in UTF-8 whose header row names its columns, in any order: "
        f"{', '.join(f'`{c}`' for c in CSV_COLUMNS)} (required: "
        f"{', '.join(f'`{c}`' for c in CSV_REQUIRED_COLUMNS)}); `access_hours` and "
        "`contacts` cells hold JSON arrays as in the API; an empty cell is a value not given. "
        "At most `SITES_IMPORT_MAX_ROWS` sites (5,000) and `SITES_IMPORT_MAX_BODY_BYTES` "
        "(4 MiB) per request. Site changes are not published as events."
    ),
    tags=TAGS,
    # The CSV file as bytes (OpenAPI 3.0's file body): generated clients send it as a file.
    request={"application/json": SiteImportSerializer, "text/csv": OpenApiTypes.BINARY},
    parameters=[IDEMPOTENCY_KEY, replayed_header([200]), *COMMON],
    responses={
        200: OpenApiResponse(
            SiteImportReportOutputSerializer, description="Done: what was stored, and what not."
        ),
        **problems(
            s400=(
                "The body as a whole is not an import: not JSON, not an object with `sites`, "
                "or a CSV file without a header, with an unknown, repeated or missing column, "
                f"or not valid CSV ({problem_code('invalid-input')} naming `header` or `body`)."
            ),
            s401=None,
            s409=IDEMPOTENCY_IN_PROGRESS,
            s413=(
                "The body is over `SITES_IMPORT_MAX_BODY_BYTES` "
                f"({problem_code('body-too-large')}), or has more sites than "
                f"`SITES_IMPORT_MAX_ROWS` ({problem_code('too-many-rows')}, with `max_rows`): "
                "split it."
            ),
            s415=(
                "The body is neither `application/json` nor `text/csv`, or not in UTF-8 "
                f"({problem_code('unsupported-media-type')})."
            ),
            s422=None,
            s429=None,
        ),
    },
    examples=[
        OpenApiExample(
            "two sites",
            value={"sites": [EXAMPLE, {**EXAMPLE, "code": "STORE-0013", "name": "Store 13"}]},
            request_only=True,
            media_type="application/json",
        ),
        OpenApiExample("a CSV file", value=CSV_EXAMPLE, request_only=True, media_type="text/csv"),
    ],
)

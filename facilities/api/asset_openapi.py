"""The assets API's OpenAPI description: one decorator per view method; the bodies are the
input and output serializers themselves (``asset_input``, ``asset_output``), the words every
API shares come from ``apikit.openapi``."""

from __future__ import annotations

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

from .asset_input import AssetCreateSerializer, AssetListQuerySerializer, AssetUpdateSerializer
from .asset_output import AssetOutputSerializer, AssetPageOutputSerializer

TAGS = ["assets"]
COMMON = [WWW_AUTHENTICATE, RETRY_AFTER]

ASSET_ID = OpenApiParameter(
    "asset_id",
    {"type": "string", "format": "uuid"},
    OpenApiParameter.PATH,
    description="The asset's id. An unknown id, or the id of another integrator's asset, is a 404.",
)
IF_MATCH = kit.if_match(
    'The `ETag` of the asset as last seen (`"3"`; `W/"3"` and `3` are accepted too): the '
    "change is made only if the asset is still at that version, otherwise 412 with its "
    "`current_version`. `*` or no header: no check. Anything else is a 400."
)
IF_NONE_MATCH = kit.if_none_match(
    'The `ETag` of your copy (`"3"`, or several comma-separated, or `*`): `304` with no '
    "body while the asset is still at that version."
)
LOCATION = response_header(
    "Location",
    {"type": "string"},
    [201],
    "The path of the new asset: `/v1/assets/{id}`.",
    required=True,
)


def etag_header(codes: list[int]) -> OpenApiParameter:
    return response_header(
        "ETag",
        kit.ETAG_SCHEMA,
        codes,
        "The asset's version; send it back as `If-Match` to change the asset safely.",
        required=True,
    )


ASSET_PROBLEMS = {
    404: f"No asset with this id belongs to the caller ({problem_code('not-found')}).",
    412: (
        f"`If-Match` names another version than the asset's ({problem_code('stale-version')}); "
        "`current_version` is the version now."
    ),
}


def problems(**descriptions: str | None) -> dict[tuple[int, str], OpenApiResponse]:
    return kit.problems(ASSET_PROBLEMS, **descriptions)


IF_MATCH_400 = "A malformed `If-Match` or `Idempotency-Key` (`invalid-input` naming it)."
SITE_400 = (
    "Also a site (`site` or `site_code`) that is not one of the caller's, is archived or is a "
    "region, and an `installed_on` that is not a real day or is in the future."
)
IN_USE_409 = (
    f"Something still needs the asset ({problem_code('asset-in-use')}, with `reasons`: open "
    "orders at it, active maintenance plans on it)"
)
EXAMPLE = {
    "code": "RTU-0012-01",
    "name": "Rooftop unit 1",
    "site_code": "STORE-0012",
    "category": "Rooftop unit",
    "make": "Carrier",
    "model": "48FC",
    "serial_number": "4821G20311",
    "installed_on": "2021-05-14",
    "notes": "On the roof above the loading dock; ladder key at the service desk.",
}


list_assets = extend_schema(
    operation_id="list_assets",
    summary="List the caller's assets",
    description=(
        "The caller's assets by code, those in service and down (`status=retired`: the "
        "retired ones instead), narrowed by the filters; `limit` per page (50, at most 200) "
        "and the opaque `cursor` of the page before, issued for these very filters."
    ),
    tags=TAGS,
    parameters=[AssetListQuerySerializer, *COMMON],
    responses={
        200: AssetPageOutputSerializer,
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

create_asset = extend_schema(
    operation_id="create_asset",
    summary="Create an asset",
    description=(
        "A piece of equipment at one of the caller's sites (named by `site`, its id, or "
        "`site_code`), with its own `code` (unique among the caller's assets, retired ones "
        "included)."
    ),
    tags=TAGS,
    request=AssetCreateSerializer,
    parameters=[
        IDEMPOTENCY_KEY,
        LOCATION,
        etag_header([201]),
        replayed_header([201, 400, 409]),
        *COMMON,
    ],
    responses={
        201: OpenApiResponse(AssetOutputSerializer, description="Created."),
        **problems(
            s400=f"{BODY_400} {SITE_400}",
            s401=None,
            s409=(
                f"The code is taken ({problem_code('duplicate-code')}, with `existing_asset`), "
                f"or: {IDEMPOTENCY_IN_PROGRESS}"
            ),
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[OpenApiExample("a rooftop unit at a store", value=EXAMPLE, request_only=True)],
)

get_asset = extend_schema(
    operation_id="get_asset",
    summary="Get an asset",
    description="Its `ETag` is its version; with `If-None-Match`, `304` while unchanged.",
    tags=TAGS,
    parameters=[ASSET_ID, IF_NONE_MATCH, etag_header([200, 304]), *COMMON],
    responses={
        200: AssetOutputSerializer,
        304: OpenApiResponse(description="Unchanged since the `ETag` in `If-None-Match`."),
        **problems(s401=None, s404=None, s429=None),
    },
)

update_asset = extend_schema(
    operation_id="update_asset",
    summary="Change an asset",
    description=(
        "Send only what changes. `site` (or `site_code`) moves it to another of your sites; "
        "`status` marks it `down` or `in_service` (or retires it, with the checks of "
        "`POST /v1/assets/{id}/retire`). A change that changes nothing keeps the version. A "
        "retired asset cannot be changed: reinstate it first."
    ),
    tags=TAGS,
    request=AssetUpdateSerializer,
    parameters=[ASSET_ID, IF_MATCH, etag_header([200]), *COMMON],
    responses={
        200: AssetOutputSerializer,
        **problems(
            s400=f"{BODY_400} {SITE_400} A malformed `If-Match` is an `invalid-input` naming it.",
            s401=None,
            s404=None,
            s409=(
                f"The new code is taken ({problem_code('duplicate-code')}), the asset is "
                f"retired ({problem_code('asset-retired')}), or: {IN_USE_409}."
            ),
            s412=None,
            s413=None,
            s415=None,
            s429=None,
        ),
    },
)

retire_asset = extend_schema(
    operation_id="retire_asset",
    summary="Retire an asset",
    description=(
        "Assets are retired, never deleted: a retired asset keeps its code and its history, "
        "leaves the list (`status=retired` lists it), cannot be changed and can be reinstated. "
        "Not while open orders are at it or active maintenance plans are on it. Retiring a "
        "retired asset changes nothing."
    ),
    tags=TAGS,
    request=None,
    parameters=[
        ASSET_ID,
        IF_MATCH,
        IDEMPOTENCY_KEY,
        etag_header([200]),
        replayed_header([200]),
        *COMMON,
    ],
    responses={
        200: AssetOutputSerializer,
        **problems(
            s400=IF_MATCH_400,
            s401=None,
            s404=None,
            s409=f"{IN_USE_409}, or: {IDEMPOTENCY_IN_PROGRESS}",
            s412=None,
            s422=None,
            s429=None,
        ),
    },
)

reinstate_asset = extend_schema(
    operation_id="reinstate_asset",
    summary="Reinstate a retired asset",
    description=(
        "In service again, at the site it was at, which must be active. An asset that is not "
        "retired stays as it is."
    ),
    tags=TAGS,
    request=None,
    parameters=[
        ASSET_ID,
        IF_MATCH,
        IDEMPOTENCY_KEY,
        etag_header([200]),
        replayed_header([200]),
        *COMMON,
    ],
    responses={
        200: AssetOutputSerializer,
        **problems(
            s400=IF_MATCH_400,
            s401=None,
            s404=None,
            s409=(
                f"Its site is archived ({problem_code('site-archived')}): restore it first; or: "
                f"{IDEMPOTENCY_IN_PROGRESS}"
            ),
            s412=None,
            s422=None,
            s429=None,
        ),
    },
)

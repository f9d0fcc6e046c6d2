"""The plans API's OpenAPI description: one decorator per view method; the bodies are the
input and output serializers themselves."""

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

from .input import (
    OccurrenceQuerySerializer,
    PlanCreateSerializer,
    PlanListQuerySerializer,
    PlanUpdateSerializer,
    SkipSerializer,
    UnskipSerializer,
)
from .output import (
    OccurrenceListOutputSerializer,
    OccurrenceOutputSerializer,
    PlanOutputSerializer,
    PlanPageOutputSerializer,
)

TAGS = ["maintenance plans"]
COMMON = [WWW_AUTHENTICATE, RETRY_AFTER]
PLAN_ID = OpenApiParameter(
    "plan_id",
    {"type": "string", "format": "uuid"},
    OpenApiParameter.PATH,
    description="The plan's id. Another integrator's plan is a 404.",
)
IF_MATCH = kit.if_match(
    'The `ETag` of the plan as last seen (`"3"`): the change is made only if the plan is '
    "still at that version, otherwise 412 with its `current_version`."
)
IF_NONE_MATCH = kit.if_none_match("The `ETag` of your copy: `304` while unchanged.")
ETAG = response_header(
    "ETag", kit.ETAG_SCHEMA, [200, 201, 304], "The plan's version.", required=True
)
LOCATION = response_header(
    "Location", {"type": "string"}, [201], "`/v1/maintenance-plans/{id}`.", required=True
)
PLAN_PROBLEMS = {
    404: f"No plan with this id belongs to the caller ({problem_code('not-found')}).",
    412: f"`If-Match` names another version ({problem_code('stale-version')}).",
}
EXAMPLE = {
    "name": "Rooftop unit: monthly filter change",
    "asset_id": "0b8f5f5e-4a53-4b55-9d5a-0c5c1b0d2f11",
    "recurrence": "FREQ=MONTHLY;BYDAY=1MO",
    "starts_on": "2027-01-01",
    "at": "07:00",
    "lead_days": 3,
    "window_hours": 4,
    "order": {"title": "Change the filters", "category": "hvac", "priority": "normal"},
}


def problems(**descriptions: str | None) -> dict:
    return kit.problems(PLAN_PROBLEMS, **descriptions)


list_plans = extend_schema(
    operation_id="list_maintenance_plans",
    summary="List the caller's maintenance plans",
    description="By name; active and paused ones unless `state` says otherwise.",
    tags=TAGS,
    parameters=[PlanListQuerySerializer, *COMMON],
    responses={
        200: PlanPageOutputSerializer,
        **problems(
            s400=f"A bad query parameter or cursor ({problem_code('invalid-input')}, "
            f"{problem_code('invalid-cursor')}).",
            s401=None,
            s429=None,
        ),
    },
)

create_plan = extend_schema(
    operation_id="create_maintenance_plan",
    summary="Create a maintenance plan",
    description=(
        "Work that recurs at a site or on an asset. Each occurrence of `recurrence` (counted "
        "from `starts_on` at `at`, in the site's time zone, from the minute the plan is made) "
        "becomes exactly one order, created `lead_days` before it is due, with the plan's "
        "`order` template, the site and the asset, a requested window from the due time, and "
        "`maintenance` naming the plan and the occurrence. Its events say so."
    ),
    tags=TAGS,
    request=PlanCreateSerializer,
    parameters=[IDEMPOTENCY_KEY, LOCATION, ETAG, replayed_header([201, 400]), *COMMON],
    responses={
        201: OpenApiResponse(PlanOutputSerializer, description="Created."),
        **problems(
            s400=f"{BODY_400} Also a site or asset that is not the caller's, an archived site, "
            "a retired asset, an asset at another site than `site_id`, and a rule that never "
            "happens again.",
            s401=None,
            s409=IDEMPOTENCY_IN_PROGRESS,
            s413=None,
            s415=None,
            s422=None,
            s429=None,
        ),
    },
    examples=[OpenApiExample("monthly on an asset", value=EXAMPLE, request_only=True)],
)

get_plan = extend_schema(
    operation_id="get_maintenance_plan",
    summary="Get a maintenance plan",
    tags=TAGS,
    parameters=[PLAN_ID, IF_NONE_MATCH, ETAG, *COMMON],
    responses={
        200: PlanOutputSerializer,
        304: OpenApiResponse(description="Unchanged."),
        **problems(s401=None, s404=None, s429=None),
    },
)

update_plan = extend_schema(
    operation_id="update_maintenance_plan",
    summary="Change a maintenance plan",
    description=(
        "Send only what changes (`order`: the parts it names). A new rule, start, time or "
        "lead time counts the occurrences again from now; orders already created stay. "
        "The place is fixed: make a new plan for another one."
    ),
    tags=TAGS,
    request=PlanUpdateSerializer,
    parameters=[PLAN_ID, IF_MATCH, ETAG, *COMMON],
    responses={
        200: PlanOutputSerializer,
        **problems(
            s400=BODY_400,
            s401=None,
            s404=None,
            s409=f"The plan is archived ({problem_code('plan-archived')}).",
            s412=None,
            s413=None,
            s415=None,
            s429=None,
        ),
    },
)


def _state_change(operation: str, summary: str, description: str):
    return extend_schema(
        operation_id=operation,
        summary=summary,
        description=description,
        tags=TAGS,
        request=None,
        parameters=[PLAN_ID, IF_MATCH, IDEMPOTENCY_KEY, ETAG, replayed_header([200]), *COMMON],
        responses={
            200: PlanOutputSerializer,
            **problems(
                s400="A malformed `If-Match` or `Idempotency-Key`, or (restore) a site that is "
                "archived or an asset that is retired.",
                s401=None,
                s404=None,
                s409=IDEMPOTENCY_IN_PROGRESS,
                s412=None,
                s422=None,
                s429=None,
            ),
        },
    )


pause_plan = _state_change(
    "pause_maintenance_plan",
    "Pause a plan",
    "No orders are created while paused; occurrences due meanwhile never happen.",
)
resume_plan = _state_change(
    "resume_maintenance_plan", "Resume a paused plan", "Counts its occurrences again from now."
)
archive_plan = _state_change(
    "archive_maintenance_plan",
    "Archive a plan",
    "It creates no more orders (its orders stay); it can be restored.",
)
restore_plan = _state_change(
    "restore_maintenance_plan", "Restore an archived plan", "Counts its occurrences from now."
)

list_occurrences = extend_schema(
    operation_id="list_plan_occurrences",
    summary="A plan's coming (or past) occurrences",
    description=(
        "The next `limit` occurrences from now, each with what became of it so far (an order "
        "created ahead by the lead time, a skip); `past=true`: what became of the past ones, "
        "latest first."
    ),
    tags=TAGS,
    parameters=[PLAN_ID, OccurrenceQuerySerializer, *COMMON],
    responses={
        200: OccurrenceListOutputSerializer,
        **problems(s400=BODY_400, s401=None, s404=None, s429=None),
    },
)

skip_occurrence = extend_schema(
    operation_id="skip_plan_occurrence",
    summary="Skip a coming occurrence",
    description="No order is created for it. Not once its order exists: cancel the order.",
    tags=TAGS,
    request=SkipSerializer,
    parameters=[PLAN_ID, *COMMON],
    responses={
        200: OccurrenceOutputSerializer,
        **problems(
            s400=f"{BODY_400} Also a `due_at` that is not one of the plan's occurrences.",
            s401=None,
            s404=None,
            s409=f"Its order exists, it is skipped or past ({problem_code('occurrence-taken')}).",
            s413=None,
            s415=None,
            s429=None,
        ),
    },
)

unskip_occurrence = extend_schema(
    operation_id="unskip_plan_occurrence",
    summary="Take back a skip",
    description="While the occurrence is still to come; its order is then created on time.",
    tags=TAGS,
    request=UnskipSerializer,
    parameters=[PLAN_ID, *COMMON],
    responses={
        204: OpenApiResponse(description="The occurrence is planned again."),
        **problems(
            s400=f"{BODY_400} Also an occurrence that is not skipped.",
            s401=None,
            s404=None,
            s409=f"The occurrence has passed ({problem_code('occurrence-taken')}).",
            s413=None,
            s415=None,
            s429=None,
        ),
    },
)

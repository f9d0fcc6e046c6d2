"""Integrators manage their maintenance plans: thin adapters that parse, call
``maintenance.services`` (or the selectors) and render. Every view is scoped to the calling
integrator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from apikit.conditional import etag, expected_version, not_modified
from apikit.idempotency import idempotent
from apikit.pagination import next_link
from apikit.validation import checked_body
from facilities.selectors import integrator_by_slug
from maintenance import services
from maintenance.domain.fields import clean_plan
from maintenance.models import MaintenancePlan
from maintenance.selectors import Occurrence, PlanQuery, coming, list_plans, past, plan_of
from portal.container import idempotency_store, plan_orders

from . import openapi as doc
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


def checked(serializer_class: type[Serializer], data: Any, *, partial: bool = False) -> Any:
    """The body as sent (the rules take dates and times as text), once its shape and the
    plans' rules found nothing; every problem at once otherwise (``apikit.validation``)."""
    checked_body(serializer_class, data, rules=clean_plan, partial=partial)
    return data


def plan_response(plan: MaintenancePlan, http_status: int = status.HTTP_200_OK) -> Response:
    response = Response(PlanOutputSerializer(plan).data, status=http_status)
    response["ETag"] = etag(plan.version)
    if http_status == status.HTTP_201_CREATED:
        response["Location"] = f"/v1/maintenance-plans/{plan.pk}"
    return response


class PlanCollectionView(APIView):
    @doc.list_plans
    def get(self, request: Request) -> Response:
        query = PlanListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = PlanQuery(
            site=params["site"].lower() if "site" in params else None,
            asset=params["asset"].lower() if "asset" in params else None,
            state=params.get("state"),
        )
        page = list_plans(
            request.user.integrator, filters, limit=params["limit"], cursor=params.get("cursor")
        )
        body = {
            "results": page.items,
            "next_cursor": page.next_cursor,
            "next": next_link(request, page.next_cursor),
        }
        return Response(PlanPageOutputSerializer(body).data)

    @doc.create_plan
    def post(self, request: Request) -> Response:
        def create() -> Response:
            data = checked(PlanCreateSerializer, request.data)
            integrator = integrator_by_slug(request.user.integrator)
            plan = services.create_plan(integrator, data, orders=plan_orders())
            return plan_response(plan, status.HTTP_201_CREATED)

        return idempotent(request, self, create, store=idempotency_store)


class PlanDetailView(APIView):
    @doc.get_plan
    def get(self, request: Request, plan_id: str) -> Response:
        plan = plan_of(request.user.integrator, plan_id)
        return not_modified(request, plan.version) or plan_response(plan)

    @doc.update_plan
    def patch(self, request: Request, plan_id: str) -> Response:
        plan = plan_of(request.user.integrator, plan_id)
        data = checked(PlanUpdateSerializer, request.data, partial=True)
        changed = services.update_plan(
            plan, data, orders=plan_orders(), expected_version=expected_version(request)
        )
        return plan_response(changed)


def state_view(change: Callable[..., MaintenancePlan], decorator: Any) -> type[APIView]:
    """A POST that changes the plan's state (pause, resume, archive, restore)."""

    class StateView(APIView):
        @decorator
        def post(self, request: Request, plan_id: str) -> Response:
            def run() -> Response:
                plan = plan_of(request.user.integrator, plan_id)
                return plan_response(change(plan, expected_version=expected_version(request)))

            return idempotent(request, self, run, store=idempotency_store)

    StateView.__name__ = StateView.__qualname__ = f"Plan{change.__name__.title()}View"
    return StateView


PlanPauseView = state_view(services.pause_plan, doc.pause_plan)
PlanResumeView = state_view(services.resume_plan, doc.resume_plan)
PlanArchiveView = state_view(services.archive_plan, doc.archive_plan)
PlanRestoreView = state_view(services.restore_plan, doc.restore_plan)


class OccurrenceListView(APIView):
    @doc.list_occurrences
    def get(self, request: Request, plan_id: str) -> Response:
        query = OccurrenceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        plan = plan_of(request.user.integrator, plan_id)
        if params["past"] == "true":
            found = past(plan, limit=params["limit"])
        else:
            found = coming(plan, count=params["limit"])
        return Response(OccurrenceListOutputSerializer({"results": found}).data)


class OccurrenceSkipView(APIView):
    @doc.skip_occurrence
    def post(self, request: Request, plan_id: str) -> Response:
        body = SkipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = plan_of(request.user.integrator, plan_id)
        fate = services.skip_occurrence(
            plan,
            body.validated_data["due_at"],
            reason=body.validated_data["reason"],
            by=f"integrator:{request.user.integrator}",
        )
        # The skip as recorded, not as the coming occurrences show it: an archived plan shows
        # none.
        lead = timedelta(days=plan.lead_days)
        shown = Occurrence(fate.due_at, fate.due_at - lead, fate.state, None, fate.reason)
        return Response(OccurrenceOutputSerializer(shown).data)


class OccurrenceUnskipView(APIView):
    @doc.unskip_occurrence
    def post(self, request: Request, plan_id: str) -> Response:
        body = UnskipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = plan_of(request.user.integrator, plan_id)
        services.unskip_occurrence(plan, body.validated_data["due_at"])
        return Response(status=status.HTTP_204_NO_CONTENT)

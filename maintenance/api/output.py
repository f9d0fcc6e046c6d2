"""What the plans API answers: one output serializer per body, which both renders it (the
views return its ``.data``) and documents it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apikit.output import OutputSerializer, TimestampField
from maintenance.domain.wording import describe
from maintenance.models import MaintenancePlan
from maintenance.selectors import Occurrence

from .input import CATEGORY_CHOICES, PRIORITY_CHOICES, STATE_CHOICES

OCCURRENCE_STATES = ["planned", "paused", "created", "skipped", "failed"]


class PlaceOutputSerializer(OutputSerializer):
    id = serializers.UUIDField()
    code = serializers.CharField(help_text="Your own code for it.")
    name = serializers.CharField()

    class Meta:
        ref_name = "PlanPlace"


class OrderTemplateOutputSerializer(OutputSerializer):
    title = serializers.CharField()
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES)
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES)
    description = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "PlanOrderTemplate"


class PlanOutputSerializer(OutputSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    site = PlaceOutputSerializer(help_text="Where the work is.")
    asset = PlaceOutputSerializer(allow_null=True, help_text="The equipment; null: the site.")
    recurrence = serializers.CharField(help_text="The RRULE, as stored.")
    schedule = serializers.CharField(help_text="The recurrence in words.")
    starts_on = serializers.DateField()
    at = serializers.CharField(help_text="HH:MM in `time_zone`.")
    time_zone = serializers.CharField(help_text="The site's IANA time zone.")
    lead_days = serializers.IntegerField()
    window_hours = serializers.IntegerField()
    order = OrderTemplateOutputSerializer()
    state = serializers.ChoiceField(choices=STATE_CHOICES)
    next_due_at = TimestampField(
        allow_null=True, help_text="The next occurrence still to handle; null: no more."
    )
    next_order_at = TimestampField(
        allow_null=True, help_text="When that occurrence's order is created."
    )
    last_error = serializers.CharField(
        allow_blank=True, help_text="Why the last order could not be created; empty: none."
    )
    version = serializers.IntegerField(help_text="Counts changes; the ETag.")
    created_at = TimestampField()
    updated_at = TimestampField()
    paused_at = TimestampField(allow_null=True)
    archived_at = TimestampField(allow_null=True)

    def resolve_asset(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> Any:
        return plan.asset

    def resolve_schedule(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> str:
        return describe(plan.recurrence, plan.at)

    def resolve_at(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> str:
        return plan.at.strftime("%H:%M")

    def resolve_time_zone(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> str:
        return plan.site.time_zone

    def resolve_order(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> Any:
        return plan.template

    def resolve_state(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> str:
        if plan.archived_at is not None:
            return "archived"
        return "paused" if plan.paused_at is not None else "active"

    def resolve_next_order_at(self, plan: MaintenancePlan, context: Mapping[str, Any]) -> Any:
        return plan.next_create_at

    class Meta:
        ref_name = "MaintenancePlan"


class PlanPageOutputSerializer(OutputSerializer):
    results = PlanOutputSerializer(many=True, help_text="By name.")
    next_cursor = serializers.CharField(allow_null=True)
    next = serializers.URLField(allow_null=True)

    class Meta:
        ref_name = "MaintenancePlanPage"


class OccurrenceOutputSerializer(OutputSerializer):
    due_at = TimestampField(help_text="When the work is due: its order's window starts then.")
    order_at = TimestampField(help_text="When its order is (or was) created.")
    state = serializers.ChoiceField(
        choices=OCCURRENCE_STATES,
        help_text=(
            "`planned`: still to come; `paused`: to come, but the plan is paused; `created`: "
            "its order exists; `skipped`: someone skipped it (`reason`); `failed`: its order "
            "could not be created (`reason`)."
        ),
    )
    order_id = serializers.UUIDField(allow_null=True)
    order = serializers.CharField(allow_null=True, help_text="The order's path.")
    reason = serializers.CharField(allow_blank=True)

    def resolve_order_at(self, occurrence: Occurrence, context: Mapping[str, Any]) -> Any:
        return occurrence.creates_at

    def resolve_order(self, occurrence: Occurrence, context: Mapping[str, Any]) -> Any:
        return f"/v1/orders/{occurrence.order_id}" if occurrence.order_id else None

    class Meta:
        ref_name = "PlanOccurrence"


class OccurrenceListOutputSerializer(OutputSerializer):
    results = OccurrenceOutputSerializer(many=True)

    class Meta:
        ref_name = "PlanOccurrenceList"

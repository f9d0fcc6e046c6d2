"""Maintenance plans for staff: the list (what, where, how often, next), each plan's page with
its coming occurrences (skip one with a reason, or take the skip back) and what became of the
past ones (links to their orders), and pause, resume, archive and restore. Every write goes
through ``maintenance.services``, the same rules as the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils.dateparse import parse_datetime

from kernel.errors import Conflict, ValidationError
from maintenance import services
from maintenance.admin_forms import PlanForm
from maintenance.domain.wording import describe
from maintenance.models import MaintenancePlan
from maintenance.selectors import coming, past
from portal.container import plan_orders

STATE_CHANGES = {
    "pause": (services.pause_plan, "Paused: no orders are created until it is resumed."),
    "resume": (services.resume_plan, "Resumed: its next order is created on time."),
    "archive": (services.archive_plan, "Archived: it creates no more orders."),
    "restore": (services.restore_plan, "Restored: it creates orders again."),
}


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("paused", "Paused"), ("archived", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(paused_at__isnull=True, archived_at__isnull=True)
        if self.value() == "paused":
            return queryset.filter(paused_at__isnull=False, archived_at__isnull=True)
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset


def state_label(plan: MaintenancePlan) -> str:
    if plan.archived_at is not None:
        return "Archived"
    return "Paused" if plan.paused_at is not None else "Active"


@admin.register(MaintenancePlan)
class MaintenancePlanAdmin(admin.ModelAdmin):
    form = PlanForm
    change_form_template = "admin/maintenance/maintenanceplan/change_form.html"
    list_display = ("name", "place", "schedule", "next_due_at", "state", "integrator")
    list_filter = (StateFilter, "integrator")
    search_fields = ("name", "site__code", "site__name", "asset__code", "asset__name")
    list_select_related = ("site", "asset", "integrator")
    readonly_fields = (
        "schedule",
        "next_due_at",
        "next_create_at",
        "state",
        "last_error",
        "version",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("integrator", "name", "site", "asset", "seen_version")}),
        ("When", {"fields": ("recurrence", "starts_on", "at", "lead_days", "window_hours")}),
        (
            "Each order says",
            {"fields": ("order_title", "order_category", "order_priority", "order_description")},
        ),
        (
            "Record",
            {
                "fields": (
                    "schedule",
                    "state",
                    "next_due_at",
                    "next_create_at",
                    "last_error",
                    "version",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )

    class Media:
        css = {"all": ("maintenance/plans.css",)}

    @admin.display(description="where")
    def place(self, plan: MaintenancePlan) -> str:
        if plan.asset is not None:
            return f"{plan.asset.name} ({plan.asset.code}) at {plan.site.code}"
        return f"{plan.site.name} ({plan.site.code})"

    @admin.display(description="how often")
    def schedule(self, plan: MaintenancePlan) -> str:
        return f"{describe(plan.recurrence, plan.at)} ({plan.site.time_zone})"

    @admin.display(description="state")
    def state(self, plan: MaintenancePlan) -> str:
        return state_label(plan)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.orders = plan_orders()
        return form

    def get_readonly_fields(self, request: HttpRequest, obj: MaintenancePlan | None = None):
        fixed = ("integrator", "site", "asset") if obj is not None else ()
        return fixed + tuple(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archived, never deleted: its orders point at it

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.archived_at is not None:
            return False  # restore it to change it
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: MaintenancePlan, form: PlanForm, change: bool):
        if change:
            saved = services.update_plan(
                obj,
                form.plan_data(),
                orders=plan_orders(),
                expected_version=form.cleaned_data.get("seen_version"),
            )
        else:
            saved = services.create_plan(
                form.cleaned_data["integrator"], form.plan_data(), orders=plan_orders()
            )
        for field in MaintenancePlan._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                coming=coming(obj, count=10),
                past=past(obj, limit=20),
                plan_state=state_label(obj),
                may_change=self.has_change_permission(request, obj)
                or (obj.archived_at is not None and super().has_change_permission(request, obj)),
            )
            context["coming_rows"] = [(o, order_admin_url(o.order_id)) for o in context["coming"]]
            context["past_rows"] = [(o, order_admin_url(o.order_id)) for o in context["past"]]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        own = [
            path(
                "<uuid:plan_id>/state/<str:change>/",
                self.admin_site.admin_view(self.change_state),
                name="maintenance_plan_state",
            ),
            path(
                "<uuid:plan_id>/skip/",
                self.admin_site.admin_view(self.skip),
                name="maintenance_plan_skip",
            ),
            path(
                "<uuid:plan_id>/unskip/",
                self.admin_site.admin_view(self.unskip),
                name="maintenance_plan_unskip",
            ),
        ]
        return own + super().get_urls()

    def _plan_to_change(self, request: HttpRequest, plan_id: Any) -> MaintenancePlan:
        plan = get_object_or_404(MaintenancePlan.objects.select_related("site"), pk=plan_id)
        if not super().has_change_permission(request, plan):
            raise PermissionDenied
        return plan

    def _back(self, plan: MaintenancePlan) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:maintenance_maintenanceplan_change", args=[plan.pk])
        )

    @staticmethod
    def _said(request: HttpRequest, exc: Exception) -> None:
        if isinstance(exc, ValidationError):
            text = " ".join(p for problems in exc.errors.values() for p in problems)
        else:
            text = str(exc)
        messages.error(request, text)

    def change_state(self, request: HttpRequest, plan_id: Any, change: str) -> HttpResponse:
        if request.method != "POST" or change not in STATE_CHANGES:
            return HttpResponse(status=405)
        plan = self._plan_to_change(request, plan_id)
        write, said = STATE_CHANGES[change]
        try:
            write(plan)
            messages.success(request, said)
        except (ValidationError, Conflict) as exc:
            self._said(request, exc)
        return self._back(plan)

    def skip(self, request: HttpRequest, plan_id: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        plan = self._plan_to_change(request, plan_id)
        due = _due(request)
        try:
            if due is None:
                raise ValidationError({"due_at": ["Choose an occurrence."]})
            services.skip_occurrence(
                plan, due, reason=request.POST.get("reason", ""), by=f"staff:{request.user}"
            )
            messages.success(request, "Skipped: no order will be created for it.")
        except (ValidationError, Conflict) as exc:
            self._said(request, exc)
        return self._back(plan)

    def unskip(self, request: HttpRequest, plan_id: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        plan = self._plan_to_change(request, plan_id)
        due = _due(request)
        try:
            if due is None:
                raise ValidationError({"due_at": ["Choose an occurrence."]})
            services.unskip_occurrence(plan, due)
            messages.success(request, "Planned again: its order will be created on time.")
        except (ValidationError, Conflict) as exc:
            self._said(request, exc)
        return self._back(plan)


def _due(request: HttpRequest) -> datetime | None:
    value = request.POST.get("due_at", "")
    parsed = parse_datetime(value) if value else None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def order_admin_url(order_id: str | None) -> str:
    if not order_id:
        return ""
    try:
        return reverse("admin:orders_workorder_change", args=[order_id])
    except NoReverseMatch:
        return ""

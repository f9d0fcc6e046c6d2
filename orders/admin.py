"""Reference data in the admin: teams, integrators and their API keys.

A new key is shown once, in the message after the action that issued it; only its prefix and
a hash are kept.
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html

from orders import integrators
from orders.domain.errors import ValidationError as DomainValidationError
from orders.webhooks.dispatch import enable, redeliver
from orders.webhooks.endpoints import (
    check_fields,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)

from .models import (
    ApiKey,
    Integrator,
    Team,
    Technician,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)


class TechnicianInline(admin.TabularInline):
    """The team's members on the team page, so staff see who can be sent to its orders."""

    model = Technician
    extra = 0
    fields = ("code", "name", "phone", "email", "active")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "categories", "capacity", "business_hours", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = [TechnicianInline]

    def save_model(self, request, obj: Team, form, change) -> None:
        super().save_model(request, obj, form, change)
        if obj.active:
            # Added, raised, activated or given a category: orders waiting for a team of its
            # categories may fit now. Once committed, so the assignment sees the new team.
            categories = list(obj.categories)
            transaction.on_commit(lambda: assign_waiting(request, categories))


@admin.register(Technician)
class TechnicianAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "team", "active")
    list_filter = ("team", "active")
    search_fields = ("code", "name", "email")
    list_select_related = ("team",)


def assign_waiting(request, categories: list[str]) -> None:
    """Give the capacity a team change added to the orders that have waited longest."""
    from orders.container import order_service

    try:
        assigned = order_service().assign_waiting(categories=categories)
    except Exception as exc:  # noqa: BLE001 - the team is saved; the periodic pass follows
        logger.warning("could not assign waiting orders after a team change", exc_info=True)
        messages.warning(
            request,
            f"Waiting orders could not be assigned now ({type(exc).__name__}); the accepted "
            "worker's periodic pass will assign them.",
        )
        return
    if assigned:
        messages.success(
            request,
            f"Assigned {len(assigned)} waiting order(s): "
            + ", ".join(f"{o.id[:8]} to {o.assigned_team}" for o in assigned[:10])
            + ("…" if len(assigned) > 10 else ""),
        )


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("prefix", "label", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are issued by the action, which shows the key once


def show_new_key(request, integrator: Integrator, key: str) -> None:
    messages.warning(
        request,
        format_html(
            "New API key for {}: <code>{}</code> — copy it now, it will not be shown again.",
            integrator.name,
            key,
        ),
    )


@admin.action(description="Issue a new API key", permissions=["change"])
def issue_key(modeladmin, request, queryset) -> None:
    for integrator in queryset:
        _, key = integrators.issue_key(integrator, label=f"issued by {request.user.get_username()}")
        show_new_key(request, integrator, key)


@admin.action(
    description="Rotate keys (issue a new one, revoke the others)", permissions=["change"]
)
def rotate_keys(modeladmin, request, queryset) -> None:
    for integrator in queryset:
        _, key = integrators.rotate_keys(
            integrator, label=f"rotated by {request.user.get_username()}"
        )
        show_new_key(request, integrator, key)


@admin.register(Integrator)
class IntegratorAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "active", "active_keys", "created_at")
    list_filter = ("active",)
    search_fields = ("slug", "name")
    inlines = [ApiKeyInline]
    actions = [issue_key, rotate_keys]

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj else ()  # the slug is stored on the integrator's orders

    @admin.display(description="active keys")
    def active_keys(self, obj: Integrator) -> int:
        return obj.api_keys.filter(revoked_at__isnull=True).count()


@admin.action(description="Revoke selected keys", permissions=["change"])
def revoke_keys(modeladmin, request, queryset) -> None:
    for api_key in queryset:
        integrators.revoke_key(api_key)
    messages.success(request, f"Revoked {queryset.count()} key(s).")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "integrator", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("integrator", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "label", "integrator__slug")
    readonly_fields = ("integrator", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = ("integrator", "prefix", "label", "created_at", "last_used_at", "revoked_at")
    actions = [revoke_keys]

    def has_add_permission(self, request) -> bool:
        return False  # issued from the integrator, so that the key can be shown once


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("integrator", "url", "description", "statuses", "event_types")

    def clean(self):
        cleaned = super().clean()
        try:
            check_fields(cleaned.get("url"), cleaned.get("statuses"), cleaned.get("event_types"))
        except DomainValidationError as exc:
            raise forms.ValidationError(
                {field: problems for field, problems in exc.errors.items()}
            ) from None
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "integrator", "enabled", "disabled_reason", "created_at")
    list_filter = ("integrator", ("disabled_at", admin.EmptyFieldListFilter))
    search_fields = ("url", "description", "integrator__slug")
    fields = (
        "integrator",
        "url",
        "description",
        "statuses",
        "event_types",
        "created_at",
        "disabled_at",
        "disabled_reason",
    )
    readonly_fields = ("created_at", "disabled_at", "disabled_reason")
    actions = ["enable_endpoints"]

    @admin.display(boolean=True)
    def enabled(self, obj: WebhookEndpoint) -> bool:
        return obj.enabled

    # Through the same code as the API's DELETE, which locks out deliveries being recorded
    # meanwhile (a plain cascade can fail on a row added between collecting and deleting).
    def delete_model(self, request, obj: WebhookEndpoint) -> None:
        delete_endpoint(obj)

    def delete_queryset(self, request, queryset) -> None:
        for endpoint in queryset:
            delete_endpoint(endpoint)

    def save_model(self, request, obj, form, change) -> None:
        # Through the same code as the API: a fresh secret, shown once.
        fields = {
            "url": obj.url,
            "description": obj.description,
            "statuses": obj.statuses or [],
            "event_types": obj.event_types or [],
        }
        if change:
            update_endpoint(obj, **fields)
            return
        created = create_endpoint(obj.integrator, **fields)
        obj.pk = created.pk
        messages.warning(
            request,
            format_html(
                "Signing secret for {}: <code>{}</code> — give it to the integrator now; "
                "it will not be shown again.",
                created.url,
                created.secret,
            ),
        )

    @admin.action(description="Enable selected endpoints", permissions=["change"])
    def enable_endpoints(self, request, queryset) -> None:
        for endpoint in queryset:
            enable(endpoint)
        messages.success(request, f"Enabled {queryset.count()} endpoint(s).")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "status",
        "order_id",
        "endpoint",
        "state",
        "attempt_count",
        "created_at",
        "next_attempt_at",
    )
    list_filter = ("state", "event_type", "status")
    search_fields = ("order_id", "event_id", "endpoint__url")
    readonly_fields = (
        "endpoint",
        "event_id",
        "event_type",
        "order_id",
        "status",
        "state",
        "schedule_step",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "payload",
    )
    inlines = [WebhookAttemptInline]
    actions = ["redeliver_now"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="attempts")
    def attempt_count(self, obj: WebhookDelivery) -> int:
        return obj.attempts.count()

    @admin.action(description="Redeliver now", permissions=["change"])
    def redeliver_now(self, request, queryset) -> None:
        for delivery in queryset:
            redeliver(delivery)
        messages.success(request, f"{queryset.count()} delivery(ies) will be sent again now.")


# The orders section lives in its own module (it is not a ModelAdmin over a table).
from orders import admin_orders  # noqa: E402, F401

"""Webhook endpoints (created, checked and deleted through the same functions as the API)
and their deliveries (redeliver, with each attempt shown)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from orders.domain.errors import ValidationError as DomainValidationError
from webhooks.dispatch import enable, redeliver
from webhooks.endpoints import (
    check_fields,
    create_endpoint,
    delete_endpoint,
    update_endpoint,
)
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


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

"""Webhook endpoints (created, checked and deleted through the same functions as the API)
and their deliveries (redeliver, with each attempt shown)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from kernel.errors import ValidationError as DomainValidationError
from orders.domain.labels import event_label, status_label
from orders.domain.model import EventType
from orders.domain.workflow import STATUSES
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


class LabelledFilter(admin.SimpleListFilter):
    """A filter on a slug field that lists its values by their labels ("Status changed", not
    ``order.status_changed``); the URL keeps the slug."""

    field: str
    values: tuple[str, ...]
    label: Callable[[str], str]

    def lookups(self, request, model_admin):
        return [(value, type(self).label(value)) for value in self.values]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.field: self.value()})
        return queryset


class EventTypeFilter(LabelledFilter):
    title = "event"
    parameter_name = field = "event_type"
    values = tuple(str(kind) for kind in EventType)
    label = staticmethod(event_label)


class StateFilter(LabelledFilter):
    title = "state"
    parameter_name = field = "state"
    values = tuple(value for value, _ in WebhookDelivery.STATES)
    label = staticmethod(lambda state: dict(WebhookDelivery.STATES)[state].capitalize())


class OrderStatusFilter(LabelledFilter):
    title = "order status"
    parameter_name = field = "status"
    values = tuple(str(status) for status in STATUSES)
    label = staticmethod(status_label)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Deliveries in staff's words: the event and the order's status by their labels, the order
    linked to its page (its long id shortened, in full on hover), times on one line."""

    list_display = (
        "event",
        "order_status",
        "order",
        "endpoint",
        "delivery_state",
        "attempt_count",
        "created",
        "next_attempt",
    )
    list_filter = (StateFilter, EventTypeFilter, OrderStatusFilter)
    search_fields = ("order_id", "event_id", "endpoint__url")
    readonly_fields = (
        "endpoint",
        "event_id",
        "event",
        "order",
        "order_status",
        "delivery_state",
        "schedule_step",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "payload",
    )
    #: Only these, all read-only: the stored slugs are shown through their labels above.
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["redeliver_now"]

    class Media:
        css = {"all": ["webhooks/webhooks.css"]}

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="event", ordering="event_type")
    def event(self, obj: WebhookDelivery) -> str:
        return format_html('<span class="wh-nowrap">{}</span>', event_label(obj.event_type))

    @admin.display(description="state", ordering="state")
    def delivery_state(self, obj: WebhookDelivery) -> str:
        return obj.get_state_display().capitalize()

    @admin.display(description="order status", ordering="status")
    def order_status(self, obj: WebhookDelivery) -> str:
        return status_label(obj.status)

    @admin.display(description="order", ordering="order_id")
    def order(self, obj: WebhookDelivery) -> str:
        short = Truncator(obj.order_id).chars(13)
        try:
            page = reverse("admin:orders_workorder_change", args=[obj.order_id])
        except NoReverseMatch:  # not an id a page can have: shown, never a broken list
            return format_html('<span class="wh-order" title="{}">{}</span>', obj.order_id, short)
        return format_html(
            '<a class="wh-order" href="{}" title="{}">{}</a>', page, obj.order_id, short
        )

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: WebhookDelivery) -> str:
        return _one_line(obj.created_at)

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj: WebhookDelivery) -> str:
        return _one_line(obj.next_attempt_at)

    @admin.display(description="attempts")
    def attempt_count(self, obj: WebhookDelivery) -> int:
        return obj.attempts.count()

    @admin.action(description="Redeliver now", permissions=["change"])
    def redeliver_now(self, request, queryset) -> None:
        for delivery in queryset:
            redeliver(delivery)
        messages.success(request, f"{queryset.count()} delivery(ies) will be sent again now.")


def _one_line(at: datetime | None) -> str:
    """A time in the staff member's zone, as the rest of the admin shows it, kept on one line
    (a narrow column used to break it over three)."""
    if at is None:
        return "—"
    return format_html(
        '<span class="wh-time">{}</span>', formats.localize(timezone.template_localtime(at))
    )

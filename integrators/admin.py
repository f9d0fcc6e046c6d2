"""Integrators and their API keys. A new key is shown once, in the message after the action
that issued it; only its prefix and a hash are kept."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html

from integrators import services as integrators
from integrators.models import ApiKey, Integrator


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


#: How long the old keys keep working after a rotation (hours), as offered on the confirmation.
ROTATION_GRACES = [(0, "at once"), (1, "in 1 hour"), (24, "in 24 hours"), (168, "in 7 days")]
DEFAULT_GRACE_HOURS = 24


@admin.action(
    description="Rotate keys (issue a new one, revoke the others)", permissions=["change"]
)
def rotate_keys(modeladmin, request, queryset):
    """Asks first (what is rotated, and when the old keys stop working), then rotates."""
    if request.POST.get("confirm") != "yes":
        for integrator in queryset:
            integrator.live_key_count = integrators.live_keys(integrator).count()
        return TemplateResponse(
            request,
            "admin/integrators/integrator/rotate_confirmation.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Rotate API keys?",
                "queryset": queryset,
                "graces": ROTATION_GRACES,
                "default_grace": DEFAULT_GRACE_HOURS,
                "opts": modeladmin.model._meta,
            },
        )
    hours = {str(h): h for h, _ in ROTATION_GRACES}.get(request.POST.get("grace", ""))
    if hours is None:
        messages.error(request, "Choose when the old keys stop working.")
        return None
    for integrator in queryset:
        _, key = integrators.rotate_keys(
            integrator,
            label=f"rotated by {request.user.get_username()}",
            grace=timedelta(hours=hours),
        )
        show_new_key(request, integrator, key)
    if hours:
        messages.info(request, f"The old keys keep working for {hours} hour(s), then stop.")
    return None


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
        return integrators.live_keys(obj).count()


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

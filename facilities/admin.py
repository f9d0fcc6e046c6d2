"""Sites for staff: the list with filters and search, each site's page, archive and restore.
Every save goes through ``facilities.services`` (the same rules as the API and the import,
and the version moves on); sites are archived, never deleted; kinds read as words."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from facilities.domain.errors import DuplicateCode, ParentArchived, SiteInUse, StaleSite
from facilities.domain.kinds import kind_label
from facilities.models import ADDRESS_COLUMNS, Site
from facilities.services import (
    archive_site,
    check_change,
    check_create,
    create_site,
    restore_site,
    update_site,
)
from kernel.errors import ValidationError as DomainValidationError
from portal.container import site_usage

#: A rule's field path (``address.country``, ``contacts[1].email``) → the form's field.
_LIST_ITEM = re.compile(r"^(access_hours|contacts)(\[.*)$")


class SiteForm(forms.ModelForm):
    #: The version the page showed: a save on another is refused, not lost.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Site
        fields = (
            "integrator",
            "code",
            "name",
            "kind",
            "parent",
            *ADDRESS_COLUMNS.values(),
            "time_zone",
            "access_hours",
            "contacts",
        )
        help_texts = {
            "access_hours": 'For example [{"days": ["mon", "fri"], "opens": "08:00", '
            '"closes": "18:00"}]; closing at or before opening runs past midnight.',
            "contacts": 'For example [{"name": "Dana", "role": "Manager", "phone": "+1 555 '
            '0100", "email": "dana@example.com"}].',
        }

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["seen_version"].initial = self.instance.version

    def site_data(self) -> dict[str, Any]:
        """The form's values in the shape the rules take (the API's)."""
        data = self.cleaned_data
        parent = data.get("parent")
        return {
            "code": data.get("code", ""),
            "name": data.get("name", ""),
            "kind": data.get("kind", ""),
            "parent": str(parent.pk) if parent is not None else None,
            "address": {part: data.get(column, "") for part, column in ADDRESS_COLUMNS.items()},
            "time_zone": data.get("time_zone", ""),
            "access_hours": data.get("access_hours") or [],
            "contacts": data.get("contacts") or [],
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            if self.instance._state.adding:  # a new site (its id is drawn already)
                check_create(cleaned["integrator"], self.site_data())
            else:
                check_change(
                    self.instance, self.site_data(), expected_version=cleaned.get("seen_version")
                )
        except DomainValidationError as exc:
            for path, problems in exc.errors.items():
                self._report(path, problems)
        except DuplicateCode as exc:
            self.add_error("code", str(exc))
        except (StaleSite, ParentArchived) as exc:
            self.add_error(None, str(exc))
        return cleaned

    def _report(self, path: str, problems: list[str]) -> None:
        field, detail = path, ""
        if (item := _LIST_ITEM.match(path)) is not None:
            field, detail = item.group(1), item.group(2) + ": "
        elif path.startswith("address."):
            field = ADDRESS_COLUMNS.get(path.removeprefix("address."), path)
        elif path == "parent_code":
            field = "parent"
        for problem in problems:
            self.add_error(field if field in self.fields else None, detail + problem)


class ArchivedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("archived", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = (
        "code",
        "name",
        "kind_shown",
        "parent_shown",
        "integrator",
        "place",
        "status",
        "updated_at",
    )
    list_display_links = ("code", "name")
    list_filter = ("integrator", "kind", ArchivedFilter)
    search_fields = ("code", "name")
    list_select_related = ("parent", "integrator")
    autocomplete_fields = ("parent",)
    readonly_fields = ("version", "created_at", "updated_at", "archived_at")
    fieldsets = (
        (None, {"fields": ("integrator", "code", "name", "kind", "parent", "seen_version")}),
        ("Address", {"fields": tuple(ADDRESS_COLUMNS.values())}),
        ("Time zone, access and contacts", {"fields": ("time_zone", "access_hours", "contacts")}),
        ("Record", {"fields": ("version", "created_at", "updated_at", "archived_at")}),
    )
    actions = ["archive_sites", "restore_sites"]

    @admin.display(description="kind", ordering="kind")
    def kind_shown(self, site: Site) -> str:
        return kind_label(site.kind)

    @admin.display(description="under", ordering="parent__name")
    def parent_shown(self, site: Site) -> str:
        return site.parent.name if site.parent is not None else "—"

    @admin.display(description="place")
    def place(self, site: Site) -> str:
        return ", ".join(part for part in (site.city, site.country) if part) or "—"

    @admin.display(description="status", ordering="archived_at")
    def status(self, site: Site) -> str:
        return "Archived" if site.archived else "Active"

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None):
        # A site stays with its integrator: its code and parents are the integrator's.
        extra = ("integrator",) if obj is not None else ()
        return extra + tuple(self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        return False  # archived, never deleted

    def has_change_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        # An archived site is kept as it was: restore it (the action) to change it.
        if obj is not None and obj.archived:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Site, form: SiteForm, change: bool) -> None:
        if change:
            saved = update_site(
                obj, form.site_data(), expected_version=form.cleaned_data.get("seen_version")
            )
        else:
            saved = create_site(form.cleaned_data["integrator"], form.site_data())
        for field in Site._meta.concrete_fields:  # the page and its message show what is stored
            setattr(obj, field.attname, getattr(saved, field.attname))

    @admin.action(description="Archive selected sites", permissions=["change"])
    def archive_sites(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        archived, refused = 0, []
        for site in queryset:
            try:
                archive_site(site, usage=site_usage())
                archived += 1
            except SiteInUse as exc:
                refused.append(f"{site.name} ({site.code}): {' '.join(exc.reasons)}")
        if archived:
            messages.success(request, f"Archived {archived} site(s).")
        for reason in refused:
            messages.warning(request, f"Not archived: {reason}")

    @admin.action(description="Restore selected sites", permissions=["change"])
    def restore_sites(self, request: HttpRequest, queryset: QuerySet[Site]) -> None:
        restored, refused = 0, []
        for site in queryset:
            try:
                restore_site(site)
                restored += 1
            except ParentArchived as exc:
                refused.append(f"{site.name} ({site.code}): {exc}")
        if restored:
            messages.success(request, f"Restored {restored} site(s).")
        for reason in refused:
            messages.warning(request, f"Not restored: {reason}")

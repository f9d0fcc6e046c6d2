"""Sites for staff: the list with filters and search, each site's page (with the equipment at
it), archive and restore. Every save goes through ``facilities.services`` (the same rules as
the API and the import, and the version moves on); sites are archived, never deleted; kinds,
access hours and contacts read as words (the page's form and its rows:
``facilities.admin_forms``). Assets have pages of their own (``facilities.asset_admin``,
registered by importing it here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from facilities import asset_admin  # noqa: F401 - registers the assets' pages
from facilities.admin_forms import SiteForm
from facilities.asset_selectors import assets_at
from facilities.domain.assets import status_label
from facilities.domain.errors import ParentArchived, SiteInUse
from facilities.domain.kinds import kind_label
from facilities.domain.labels import contacts_summary, hours_summary
from facilities.models import ADDRESS_COLUMNS, Site
from facilities.services import archive_site, create_site, restore_site, update_site
from portal.container import site_usage

#: The site's page for staff who may change it: access hours and contacts as rows.
EDIT_FIELDSETS: Any = (
    (None, {"fields": ("integrator", "code", "name", "kind", "parent", "seen_version")}),
    ("Address", {"fields": tuple(ADDRESS_COLUMNS.values())}),
    ("Time zone, access and contacts", {"fields": ("time_zone", "access_hours", "contacts")}),
    ("Record", {"fields": ("version", "created_at", "updated_at", "archived_at")}),
)
#: ... and for those who may only view it (or an archived site): hours and contacts in words.
SHOWN_FIELDSETS: Any = (
    *EDIT_FIELDSETS[:2],
    ("Time zone, access and contacts", {"fields": ("time_zone", "hours_shown", "contacts_shown")}),
    EDIT_FIELDSETS[3],
)


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
    fieldsets = EDIT_FIELDSETS
    actions = ["archive_sites", "restore_sites"]

    class Media:
        css = {"all": ["facilities/assets.css"]}

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

    @admin.display(description="access hours")
    def hours_shown(self, site: Site) -> str:
        return hours_summary(site.access_hours)

    @admin.display(description="contacts")
    def contacts_shown(self, site: Site) -> str:
        """One line per contact, such as: Dana Reyes (Store manager), +1 555 0100."""
        return "\n".join(contacts_summary(site.contacts)) or "—"

    def get_fieldsets(self, request: HttpRequest, obj: Site | None = None):
        if obj is not None and not self.has_change_permission(request, obj):
            return SHOWN_FIELDSETS  # read, not edited: no boxes, words
        return EDIT_FIELDSETS

    def get_readonly_fields(self, request: HttpRequest, obj: Site | None = None):
        # A site stays with its integrator: its code and parents are the integrator's.
        extra = ("integrator",) if obj is not None else ()
        return extra + tuple(self.readonly_fields) + ("hours_shown", "contacts_shown")

    def has_delete_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        return False  # archived, never deleted

    def has_change_permission(self, request: HttpRequest, obj: Site | None = None) -> bool:
        # An archived site is kept as it was: restore it (the action) to change it.
        if obj is not None and obj.archived:
            return False
        return super().has_change_permission(request, obj)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        site = self.get_object(request, object_id)
        if site is not None:
            extra["assets_here"] = _assets_here(site)
        return super().change_view(request, object_id, form_url, extra)

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


#: The assets a site's page lists (the rest are counted, with a link to them all).
ASSETS_SHOWN = 20


def _assets_here(site: Site) -> dict[str, Any]:
    """The equipment at the site that is not retired, as its page lists it: each asset's
    page, its name, category and status in words."""
    here = assets_at(site, limit=ASSETS_SHOWN)
    rows = [
        {
            "url": reverse("admin:facilities_asset_change", args=[asset.pk]),
            "code": asset.code,
            "name": asset.name,
            "category": asset.category or "—",
            "status": status_label(asset.status),
            "down": asset.status == asset.DOWN,
        }
        for asset in here.items
    ]
    listed = f"{reverse('admin:facilities_asset_changelist')}?site__exact={site.pk}"
    return {"rows": rows, "total": here.total, "list_url": listed}

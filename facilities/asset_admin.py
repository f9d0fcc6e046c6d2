"""Assets for staff: the list with filters and search, each asset's page with its orders and
its coming maintenance, a printable label with a QR code, and actions to mark assets down, in
service, retired or back. Every save goes through ``facilities.asset_services`` (the API's
rules; the version moves on); assets are retired, never deleted; statuses read as words.

Registered by ``facilities.admin`` (imported there, so Django's autodiscovery finds it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import segno
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from facilities.asset_services import (
    AssetUsage,
    OrdersAndPlans,
    check_change,
    check_create,
    create_asset,
    reinstate_asset,
    retire_asset,
    set_asset_status,
    update_asset,
)
from facilities.domain.assets import DOWN, IN_SERVICE, status_label
from facilities.domain.errors import (
    AssetInUse,
    AssetRetired,
    AssetSiteArchived,
    DuplicateAssetCode,
    StaleAsset,
)
from facilities.models import Asset
from kernel.errors import ValidationError as DomainValidationError
from portal.container import place_orders, planned_work

log = logging.getLogger(__name__)

#: The orders and the coming occurrences an asset's page lists (each list).
PAGE_ORDERS = 10
PAGE_UPCOMING = 5
DETAILS = ("category", "make", "model", "serial_number", "installed_on", "notes")
RECORD = ("version", "created_at", "updated_at", "status_changed_at")

#: The asset's page for staff who may change it, and for those who only read it (or a retired
#: asset): the site as a link to its page, the status in words.
EDIT_FIELDSETS: Any = (
    (
        None,
        {"fields": ("integrator", "code", "name", "site", "site_where", "status", "seen_version")},
    ),
    ("Equipment", {"fields": DETAILS}),
    ("Record", {"fields": RECORD}),
)
ADD_FIELDSETS: Any = (
    (None, {"fields": ("integrator", "code", "name", "site", "status")}),
    ("Equipment", {"fields": DETAILS}),
)
SHOWN_FIELDSETS: Any = (
    (None, {"fields": ("integrator", "code", "name", "site_page", "status")}),
    *EDIT_FIELDSETS[1:],
)


def asset_usage() -> AssetUsage:
    """What still needs an asset: the open orders at it and the active plans on it."""
    return OrdersAndPlans(place_orders(), planned_work())


def qr_svg(url: str) -> SafeString:
    """``url`` as a QR code, an SVG to put in the page as it is (segno writes only paths,
    no script and no style attribute: the Content-Security-Policy holds). Medium error
    correction: a scuffed label still reads."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(
        dark="#000", light="#fff", border=4, omitsize=True, svgclass="asset-qr", lineclass=None
    )
    return mark_safe(svg)  # segno's own markup: the URL is in it only as modules


class AssetForm(forms.ModelForm):
    """The asset's page: its values go to the rules in the API's shape; what they refuse is
    put beside the field it concerns (``site_code`` beside the site)."""

    #: The version the page showed: a save on another is refused, not lost.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Asset
        fields = ("integrator", "code", "name", "site", "status", *DETAILS)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["seen_version"].initial = self.instance.version

    def asset_data(self) -> dict[str, Any]:
        """The form's values in the shape the rules take (the API's)."""
        data = self.cleaned_data
        site = data.get("site")
        installed = data.get("installed_on")
        return {
            "code": data.get("code", ""),
            "name": data.get("name", ""),
            "site": str(site.pk) if site is not None else "",
            **{name: data.get(name, "") for name in DETAILS if name != "installed_on"},
            "installed_on": installed.isoformat() if installed else None,
            "status": data.get("status", IN_SERVICE),
        }

    def _get_validation_exclusions(self) -> set[str]:
        # A taken code is the rules' to say (clean), once, naming the asset that has it: not
        # the model's unique constraint a second time in other words.
        return {*super()._get_validation_exclusions(), "code"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            if self.instance._state.adding:
                check_create(cleaned["integrator"], self.asset_data())
            else:
                check_change(
                    self.instance,
                    self.asset_data(),
                    usage=asset_usage(),
                    expected_version=cleaned.get("seen_version"),
                )
        except DomainValidationError as exc:
            for path_, problems in exc.errors.items():
                field = "site" if path_ == "site_code" else path_
                for problem in problems:
                    self.add_error(field if field in self.fields else None, problem)
        except DuplicateAssetCode as exc:
            self.add_error("code", str(exc))
        except AssetInUse as exc:
            self.add_error("status", "It cannot be retired: " + " ".join(exc.reasons))
        except (StaleAsset, AssetRetired) as exc:
            self.add_error(None, str(exc))
        return cleaned


# -- the list's columns and filters, in words ----------------------------------------------


class CategoryFilter(admin.SimpleListFilter):
    """The categories the integrators use, as they wrote them; "None given" for the assets
    without one (Django's own filter would show an empty link for them)."""

    title = "category"
    parameter_name = "category"
    NONE = "-"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        categories = (
            Asset.objects.exclude(category="")
            .order_by("category")
            .values_list("category", flat=True)
            .distinct()
        )
        return [(c, c) for c in categories] + [(self.NONE, "None given")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Asset]) -> QuerySet[Asset]:
        if self.value() is None:
            return queryset
        return queryset.filter(category="" if self.value() == self.NONE else self.value())


@admin.display(description="status", ordering="status")
def status_shown(asset: Asset) -> str:
    return status_label(asset.status)


@admin.display(description="category", ordering="category")
def category_shown(asset: Asset) -> str:
    return asset.category or "—"


@admin.display(description="at", ordering="site__name")
def site_shown(asset: Asset) -> str:
    return str(asset.site)


class AssetAdmin(admin.ModelAdmin):
    form = AssetForm
    list_display = (
        "code",
        "name",
        status_shown,
        category_shown,
        site_shown,
        "integrator",
        "updated_at",
    )
    list_display_links = ("code", "name")
    list_filter = ("status", "integrator", CategoryFilter)
    search_fields = ("code", "name", "serial_number")
    list_select_related = ("site", "integrator")
    autocomplete_fields = ("site",)
    readonly_fields = RECORD
    fieldsets = EDIT_FIELDSETS
    actions = ["mark_down", "mark_in_service", "retire_assets", "reinstate_assets"]

    class Media:
        css = {"all": ["facilities/assets.css"]}

    @admin.display(description="site")
    def site_page(self, asset: Asset) -> str:
        """The site by name and code, a link to its page, and where it is."""
        site = asset.site
        place = ", ".join(part for part in (site.city, site.country) if part)
        link = format_html(
            '<a href="{}">{}</a>', reverse("admin:facilities_site_change", args=[site.pk]), site
        )
        return format_html("{} — {}", link, place) if place else link

    @admin.display(description="site's page")
    def site_where(self, asset: Asset) -> str:
        """The same beside the site's box, for staff who change it."""
        return self.site_page(asset)

    def get_fieldsets(self, request: HttpRequest, obj: Asset | None = None):
        if obj is None:
            return ADD_FIELDSETS
        if not self.has_change_permission(request, obj):
            return SHOWN_FIELDSETS  # read, not edited: words and links, no boxes
        return EDIT_FIELDSETS

    def get_readonly_fields(self, request: HttpRequest, obj: Asset | None = None):
        # An asset stays with its integrator: its code and sites are the integrator's.
        extra = ("integrator",) if obj is not None else ()
        return extra + RECORD + ("site_page", "site_where")

    def has_delete_permission(self, request: HttpRequest, obj: Asset | None = None) -> bool:
        return False  # retired, never deleted

    def has_change_permission(self, request: HttpRequest, obj: Asset | None = None) -> bool:
        # A retired asset is kept as it was: reinstate it (the action) to change it.
        if obj is not None and obj.retired:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Asset, form: AssetForm, change: bool) -> None:
        if change:
            saved = update_asset(
                obj,
                form.asset_data(),
                usage=asset_usage(),
                expected_version=form.cleaned_data.get("seen_version"),
            )
        else:
            saved = create_asset(form.cleaned_data["integrator"], form.asset_data())
        for field in Asset._meta.concrete_fields:  # the page and its message show what is stored
            setattr(obj, field.attname, getattr(saved, field.attname))

    # -- the asset's page: its orders, its coming maintenance, its label ---------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        asset = self.get_object(request, object_id)
        if asset is not None:
            extra.update(self._work_at(str(asset.pk)))
            extra["label_url"] = reverse("admin:facilities_asset_label", args=[asset.pk])
        return super().change_view(request, object_id, form_url, extra)

    def _work_at(self, asset_id: str) -> dict[str, Any]:
        """The orders at the asset and its coming maintenance; a page that cannot read them
        says so rather than failing (the asset's details still show)."""
        shown: dict[str, Any] = {"orders_url": _orders_list_url(asset_id)}
        shown["orders"] = _read(lambda: place_orders().at_asset(asset_id, limit=PAGE_ORDERS))
        shown["upcoming"] = _read(
            lambda: planned_work().upcoming_at_asset(asset_id, limit=PAGE_UPCOMING)
        )
        return shown

    def get_urls(self) -> list[URLPattern]:
        label = path(
            "<path:object_id>/label/",
            self.admin_site.admin_view(self.label_view),
            name="facilities_asset_label",
        )
        return [label, *super().get_urls()]

    def label_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A label to print and stick on the equipment: its name, code and site, and a QR code
        that opens this asset's staff page."""
        asset = self.get_object(request, object_id)
        if asset is None:
            raise Http404("No asset with this id.")
        if not self.has_view_permission(request, asset):
            raise PermissionDenied
        page_url = request.build_absolute_uri(
            reverse("admin:facilities_asset_change", args=[asset.pk])
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Label: {asset.name}",
            "subtitle": None,
            "opts": self.opts,
            "asset": asset,
            "status": status_label(asset.status),
            "page_url": page_url,
            "qr": qr_svg(page_url),
        }
        return TemplateResponse(request, "admin/facilities/asset/label.html", context)

    # -- actions ------------------------------------------------------------------------------

    @admin.action(description="Mark selected assets as down", permissions=["change"])
    def mark_down(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        self._each(request, queryset, lambda a: set_asset_status(a, DOWN, usage=asset_usage()))

    @admin.action(description="Mark selected assets as in service", permissions=["change"])
    def mark_in_service(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        self._each(
            request, queryset, lambda a: set_asset_status(a, IN_SERVICE, usage=asset_usage())
        )

    @admin.action(description="Retire selected assets", permissions=["change"])
    def retire_assets(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        self._each(request, queryset, lambda a: retire_asset(a, usage=asset_usage()))

    @admin.action(description="Reinstate selected retired assets", permissions=["change"])
    def reinstate_assets(self, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        self._each(request, queryset, reinstate_asset)

    def _each(
        self, request: HttpRequest, queryset: QuerySet[Asset], change: Callable[[Asset], Asset]
    ) -> None:
        """Each asset through the services; what changed is counted, what was refused is said
        with its reason (a retired asset, open orders at it, an archived site)."""
        changed, refused = {}, []
        for asset in queryset.select_related("site"):
            try:
                after = change(asset)
            except AssetInUse as exc:
                refused.append(f"{asset}: {' '.join(exc.reasons)}")
                continue
            except (AssetRetired, AssetSiteArchived) as exc:
                refused.append(f"{asset}: {exc}")
                continue
            if after.version != asset.version:
                label = status_label(after.status)
                changed[label] = changed.get(label, 0) + 1
        for label, count in changed.items():
            messages.success(request, f"{count} asset(s) now {label.lower()}.")
        if not changed and not refused:
            messages.info(request, "Nothing to change: the assets were already so.")
        for reason in refused:
            messages.warning(request, f"Not changed: {reason}")


def _read(read: Callable[[], Any]) -> Any:
    """What ``read`` answers; ``None`` when it fails (logged), for the page to say so."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - the asset's page shows, whatever the orders' store does
        log.exception("an asset's orders or plans could not be read")
        return None


def _orders_list_url(asset_id: str) -> str | None:
    """The staff's list of the orders at the asset (the orders' admin filters by asset)."""
    try:
        return f"{reverse('admin:orders_workorder_changelist')}?asset_id={asset_id}"
    except NoReverseMatch:
        return None


admin.site.register(Asset, AssetAdmin)

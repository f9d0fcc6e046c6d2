"""The plan's form for staff: the model's boxes, handed to ``maintenance.services`` in the
API's shape, so the rules decide and what they refuse (``order.title``, ``recurrence``) is
shown beside the box it came from, in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.db import transaction

from facilities.models import Asset, Site
from kernel.errors import ValidationError as DomainValidationError
from maintenance import services
from maintenance.domain.errors import StalePlan
from maintenance.models import MaintenancePlan
from maintenance.ports import OrderMaker
from orders.domain.labels import CATEGORY_LABELS, PRIORITY_LABELS

#: The rules' field → the form's box.
BOXES = {
    "site_id": "site",
    "asset_id": "asset",
    "order.title": "order_title",
    "order.category": "order_category",
    "order.priority": "order_priority",
    "order.description": "order_description",
}
RULE_HELP = (
    "How often, as an RFC 5545 rule: FREQ=WEEKLY;BYDAY=MO (every Monday), "
    "FREQ=MONTHLY;BYMONTHDAY=1 (the 1st of each month), FREQ=MONTHLY;BYDAY=1MO (the first "
    "Monday), FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=15 (15 March and 15 September), "
    "FREQ=DAILY;INTERVAL=14 (every two weeks)."
)


class _DryRun(Exception):
    pass


class PlanForm(forms.ModelForm):
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    order_category = forms.ChoiceField(choices=list(CATEGORY_LABELS.items()), label="Category")
    order_priority = forms.ChoiceField(choices=list(PRIORITY_LABELS.items()), label="Priority")
    at = forms.TimeField(
        label="Due at",
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
        help_text="The time of day, on the site's clock (its time zone).",
    )
    starts_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The first day the rule may fall on.",
    )

    #: Handed in by the admin: the orders' side of the plans (checks the template).
    orders: OrderMaker

    class Meta:
        model = MaintenancePlan
        fields = (
            "integrator",
            "site",
            "asset",
            "name",
            "recurrence",
            "starts_on",
            "at",
            "lead_days",
            "window_hours",
            "order_title",
            "order_category",
            "order_priority",
            "order_description",
        )
        labels = {
            "order_title": "Title",
            "order_description": "Description",
            "lead_days": "Create the order (days before)",
            "window_hours": "Requested window (hours)",
        }
        help_texts = {"recurrence": RULE_HELP}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "site" in self.fields:
            self.fields["site"].queryset = Site.objects.filter(archived_at__isnull=True)
            self.fields["site"].required = False
            self.fields["site"].help_text = "Where the work is (or choose an asset below)."
        if "asset" in self.fields:
            self.fields["asset"].queryset = Asset.objects.exclude(status=Asset.RETIRED)
            self.fields["asset"].help_text = "The equipment; its orders carry it."
        if not self.instance._state.adding:
            self.fields["seen_version"].initial = self.instance.version

    def plan_data(self) -> dict[str, Any]:
        """The form's values in the API's shape (what the rules take)."""
        data = self.cleaned_data
        shaped: dict[str, Any] = {
            "name": data.get("name", ""),
            "recurrence": data.get("recurrence", ""),
            "starts_on": data["starts_on"].isoformat() if data.get("starts_on") else "",
            "at": data["at"].strftime("%H:%M") if data.get("at") else "",
            "lead_days": data.get("lead_days") or 0,
            "window_hours": data.get("window_hours") or 1,
            "order": {
                "title": data.get("order_title", ""),
                "category": data.get("order_category", ""),
                "priority": data.get("order_priority", "normal"),
                "description": data.get("order_description", ""),
            },
        }
        if self.instance._state.adding:
            site, asset = data.get("site"), data.get("asset")
            shaped["site_id"] = str(site.pk) if site is not None else None
            shaped["asset_id"] = str(asset.pk) if asset is not None else None
        return shaped

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            if self.instance._state.adding:
                self._dry_run(
                    lambda: services.create_plan(
                        cleaned["integrator"], self.plan_data(), orders=self.orders
                    )
                )
            else:
                self._dry_run(
                    lambda: services.update_plan(
                        self.instance,
                        self.plan_data(),
                        orders=self.orders,
                        expected_version=cleaned.get("seen_version"),
                    )
                )
        except DomainValidationError as exc:
            for path, problems in exc.errors.items():
                box = BOXES.get(path, path)
                for problem in problems:
                    self.add_error(box if box in self.fields else None, problem)
        except StalePlan as exc:
            self.add_error(None, str(exc))
        return cleaned

    @staticmethod
    def _dry_run(write: Callable[[], MaintenancePlan]) -> None:
        try:
            with transaction.atomic():
                write()
                raise _DryRun
        except _DryRun:
            pass

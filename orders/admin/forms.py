"""Forms of the orders section of the admin. They only parse; the rules are the domain's."""

from __future__ import annotations

import json
from datetime import timedelta

from django import forms
from django.utils import timezone

from orders.admin.work_forms import DateTimeLocalInput
from orders.domain import labels, rules
from orders.domain.model import CATEGORIES, Contact, Priority, TimeWindow
from orders.domain.rules import OrderInput
from orders.domain.workflow import STATUSES
from orders.models import Team, Technician
from orders.repository.base import OrderFilter
from portal.container import integrator_names, place_name

STATUS_CHOICES = [(str(s), labels.status_label(s)) for s in STATUSES]
PRIORITY_CHOICES = [(p.value, labels.priority_label(p)) for p in Priority]
CATEGORY_CHOICES = [(c, labels.category_label(c)) for c in CATEGORIES]
SLA_CHOICES = [("", "any"), ("breached", "SLA breached"), ("due_1h", "SLA due within 1 h")]
#: How many orders a list page may show; 50 unless the person chooses.
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 50
SORT_CHOICES = [
    ("", "Newest first"),
    ("-created", "Oldest first"),
    ("sla", "SLA due, soonest first"),
    ("-sla", "SLA due, latest first"),
    ("priority", "Most urgent first"),
    ("-priority", "Least urgent first"),
]


class OrderListForm(forms.Form):
    status = forms.MultipleChoiceField(
        choices=STATUS_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    priority = forms.MultipleChoiceField(
        choices=PRIORITY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    category = forms.MultipleChoiceField(
        choices=CATEGORY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    integrator = forms.ChoiceField(required=False)
    site = forms.CharField(
        required=False,
        max_length=rules.SITE_MAX,
        widget=forms.TextInput(attrs={"placeholder": "as on the order", "size": 16}),
    )
    team = forms.ChoiceField(required=False)
    sla = forms.ChoiceField(choices=SLA_CHOICES, required=False, label="SLA")
    waiting = forms.ChoiceField(
        choices=[("", "any"), ("unassigned", "Waiting for a team")],
        required=False,
        label="Assignment",
    )
    technician = forms.ChoiceField(required=False)
    visit_today = forms.BooleanField(required=False, label="Visit today")
    q = forms.CharField(
        required=False,
        max_length=100,
        label="Search orders",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Order id, reference, or words", "size": 30}
        ),
        help_text=(
            "An order id or external reference opens that order; words (or their first "
            "letters) find orders by title, site, reference or id, in any case."
        ),
    )
    per_page = forms.TypedChoiceField(
        choices=[(str(n), f"{n} per page") for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=None,
        label="Show",
    )
    # A site's or an asset's orders, from a link (on the order's page, the site's or the
    # asset's): shown as a chip with the place's code and name, never typed.
    site_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    asset_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(choices=SORT_CHOICES, required=False, widget=forms.HiddenInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=1000, widget=forms.HiddenInput)
    cursor = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    #: Filters shown in drop-downs of ticks; the rest are plain selects.
    TICKED = ("status", "priority", "category")

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("per_page"):
            # The page size's select shows the size in force (a bound form has no initial).
            data = data.copy()
            data["per_page"] = str(DEFAULT_PAGE_SIZE)
        super().__init__(data, *args, **kwargs)
        self.fields["integrator"].choices = [("", "all"), *integrator_names().items()]
        self.fields["team"].choices = [("", "any")] + list(Team.objects.values_list("code", "name"))
        self.fields["technician"].choices = [("", "any")] + list(
            Technician.objects.values_list("code", "name")
        )

    #: What a chip shows before a filter's value, when the value alone would not say.
    CHIP_PREFIX = {
        "status": "Status",
        "priority": "Priority",
        "category": "Category",
        "site": "Site",
        "integrator": "Integrator",
        "team": "Team",
        "technician": "Technician",
        "site_id": "Site",
        "asset_id": "Asset",
    }
    #: Filters by a place's id, and the kind of place each names.
    PLACES = {"site_id": "site", "asset_id": "asset"}

    def chips(self) -> list[tuple[str, str, str]]:
        """The filters in force, each as (what people read, parameter, value): the list shows
        them as chips that remove themselves. The sort, page and search are not filters."""
        chips = []
        for name, field in self.fields.items():
            if name in ("sort", "page", "cursor", "q", "per_page"):
                continue
            value = self.cleaned_data.get(name)
            if not value:
                continue
            if isinstance(field, forms.BooleanField):
                chips.append((field.label, name, "on"))
                continue
            if name in self.PLACES:
                text = place_name(self.PLACES[name], str(value)) or f"unknown ({value})"
                # The value as the query has it, which the chip's × takes off.
                chips.append((f"{self.CHIP_PREFIX[name]}: {text}", name, self.data.get(name)))
                continue
            names = dict(getattr(field, "choices", ()))
            for one in value if isinstance(value, list) else [value]:
                text = str(names.get(one, one))
                prefix = self.CHIP_PREFIX.get(name)
                chips.append((f"{prefix}: {text}" if prefix else text, name, one))
        return chips

    def special_listing(self) -> str | None:
        """The listings that are not a filtered page of all orders (each has an index of
        its own): ``technician`` or ``visit_today``."""
        data = self.cleaned_data
        if data.get("technician"):
            return "technician"
        if data.get("visit_today"):
            return "visit_today"
        return None

    def order_filter(self) -> OrderFilter:
        data = self.cleaned_data
        sla_due_before = None
        if data.get("sla") == "breached":
            sla_due_before = timezone.now()
        elif data.get("sla") == "due_1h":
            sla_due_before = timezone.now() + timedelta(hours=1)
        statuses = frozenset(data.get("status") or ())
        if data.get("waiting") == "unassigned":
            # Waiting for a team is being in accepted: the workers move it on once placed.
            # (The pipeline page lists the backlog oldest first, in the order it is served.)
            statuses = frozenset({"accepted"})
        if sla_due_before and not statuses:
            # An SLA matters until the work is done: completed, cancelled and rejected are out.
            statuses = frozenset({"received", "accepted", "scheduled", "in_progress"})
        return OrderFilter(
            statuses=statuses,
            priorities=frozenset(data.get("priority") or ()),
            teams=frozenset([data["team"]] if data.get("team") else []),
            sla_due_before=sla_due_before,
            categories=frozenset(data.get("category") or ()),
            sites=frozenset([data["site"].strip()] if (data.get("site") or "").strip() else []),
            site_id=str(data["site_id"]) if data.get("site_id") else None,
            asset_id=str(data["asset_id"]) if data.get("asset_id") else None,
        )


def contact_from(data: dict) -> Contact | None:
    if not any(data.get(f"contact_{k}") for k in ("name", "phone", "email")):
        return None
    return Contact(
        name=data["contact_name"], phone=data["contact_phone"], email=data["contact_email"]
    )


def window_from(data: dict) -> TimeWindow | None:
    if not data.get("window_start"):
        return None
    return TimeWindow(start=data["window_start"], end=data["window_end"])


def check_window(data: dict) -> None:
    if bool(data.get("window_start")) != bool(data.get("window_end")):
        raise forms.ValidationError("Give both ends of the requested window, or neither.")


class OrderDetailsForm(forms.Form):
    """The fields an order's details share between creating and correcting it."""

    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=rules.DESCRIPTION_MAX, required=False
    )
    contact_name = forms.CharField(max_length=rules.CONTACT_FIELD_MAX, required=False)
    contact_phone = forms.CharField(max_length=rules.CONTACT_FIELD_MAX, required=False)
    contact_email = forms.CharField(max_length=rules.CONTACT_FIELD_MAX, required=False)
    window_start = forms.DateTimeField(
        required=False,
        widget=DateTimeLocalInput(),
        label="Requested window from",
        help_text="In your time zone (the admin's times are).",
    )
    window_end = forms.DateTimeField(
        required=False, widget=DateTimeLocalInput(), label="Requested window until"
    )
    metadata = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="A JSON object."
    )

    #: Where a domain error on a field is shown.
    FIELD_NAMES = {
        "contact.name": "contact_name",
        "contact.phone": "contact_phone",
        "contact.email": "contact_email",
        "requested_window": "window_start",
        "requested_window.end": "window_end",
    }

    def clean_metadata(self):
        text = self.cleaned_data.get("metadata") or ""
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
            raise forms.ValidationError('Enter a JSON object, like {"floor": 2}.') from None

    def clean(self):
        data = super().clean()
        check_window(data)
        return data


class OrderCreateForm(OrderDetailsForm):
    integrator = forms.ChoiceField()
    title = forms.CharField(max_length=rules.TITLE_MAX)
    category = forms.ChoiceField(choices=CATEGORY_CHOICES)
    priority = forms.ChoiceField(choices=PRIORITY_CHOICES, initial="normal")
    site = forms.CharField(max_length=rules.SITE_MAX)
    external_reference = forms.CharField(max_length=rules.REFERENCE_MAX, required=False)

    field_order = ["integrator", "title", "category", "priority", "site", "external_reference"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Active integrators only, chosen by name; the order stores the slug.
        self.fields["integrator"].choices = [
            ("", "---------"),
            *integrator_names(active_only=True).items(),
        ]

    def to_input(self) -> OrderInput:
        data = self.cleaned_data
        return OrderInput(
            title=data["title"],
            category=data["category"],
            priority=data["priority"],
            site=data["site"],
            external_reference=data["external_reference"] or None,
            description=data["description"],
            contact=contact_from(data),
            requested_window=window_from(data),
            metadata=data["metadata"],
        )


class MoveForm(forms.Form):
    to = forms.ChoiceField(choices=STATUS_CHOICES)
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(max_length=rules.REASON_MAX, required=False)


class BulkMoveForm(forms.Form):
    to = forms.ChoiceField(choices=STATUS_CHOICES)
    reason = forms.CharField(max_length=rules.REASON_MAX, required=False)
    #: "<order id>:<version>" as the list showed them, so a stale selection is refused.
    selected = forms.MultipleChoiceField(required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["selected"].choices = [(v, v) for v in self.data.getlist("selected")]

    def targets(self) -> list[tuple[str, int]]:
        pairs = []
        for value in self.cleaned_data["selected"]:
            order_id, _, version = value.rpartition(":")
            if order_id and version.isdigit():
                pairs.append((order_id, int(version)))
        return pairs


class OrderEditForm(OrderDetailsForm):
    """The details staff may correct; the version makes a stale form refuse to save."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    field_order = ["version", "title", "priority", "site"]
    title = forms.CharField(max_length=rules.TITLE_MAX)
    priority = forms.ChoiceField(choices=PRIORITY_CHOICES)
    site = forms.CharField(max_length=rules.SITE_MAX)

    @classmethod
    def initial_for(cls, order) -> dict:
        contact = order.contact
        window = order.requested_window
        return {
            "version": order.public_version,
            "title": order.title,
            "priority": str(order.priority),
            "site": order.site,
            "description": order.description,
            "contact_name": contact.name if contact else "",
            "contact_phone": contact.phone if contact else "",
            "contact_email": contact.email if contact else "",
            "window_start": window.start if window else None,
            "window_end": window.end if window else None,
            "metadata": json.dumps(dict(order.metadata)) if order.metadata else "",
        }

    def changes(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "priority": Priority(data["priority"]),
            "site": data["site"],
            "description": data["description"],
            "contact": contact_from(data),
            "requested_window": window_from(data),
            "metadata": data["metadata"],
        }

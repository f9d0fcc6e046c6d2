"""Forms of the admin's work on an order: notes, holds, technicians, visits, uploads.

They only parse what staff typed; every rule is the domain's (``orders.domain.rules``).
Each carries the version the page showed, so a form from a stale page is refused.
"""

from __future__ import annotations

from django import forms

from orders.domain import rules
from orders.domain.model import TimeWindow, Visibility

#: The usual reasons, so most holds take one click; "other" asks for the reason itself.
HOLD_REASONS = [
    ("Waiting for parts", "Waiting for parts"),
    ("Waiting for access", "Waiting for access to the site"),
    ("Waiting for the customer", "Waiting for the customer"),
    ("other", "Other (say why)"),
]
VISIBILITY_CHOICES = [
    (Visibility.INTERNAL.value, "Staff only"),
    (Visibility.PUBLIC.value, "Shared with the integrator"),
]


class VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class NoteForm(VersionForm):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Add a note…"}),
        max_length=rules.NOTE_MAX,
    )
    visibility = forms.ChoiceField(choices=VISIBILITY_CHOICES, initial=Visibility.INTERNAL)


class HoldForm(VersionForm):
    preset = forms.ChoiceField(choices=HOLD_REASONS, label="Why")
    detail = forms.CharField(max_length=300, required=False, label="Details")

    def clean(self):
        data = super().clean()
        preset, detail = data.get("preset"), (data.get("detail") or "").strip()
        if preset == "other" and not detail:
            self.add_error("detail", "Say why the order waits.")
        elif preset:
            data["reason"] = detail if preset == "other" else f"{preset}: {detail}".rstrip(": ")
        return data


class TechnicianForm(VersionForm):
    technician = forms.ChoiceField(label="Technician")

    def __init__(self, *args, technicians: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["technician"].choices = technicians


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's own date-time picker; its value is in the staff member's time zone."""

    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format="%Y-%m-%dT%H:%M")


class VisitForm(VersionForm):
    start = forms.DateTimeField(widget=DateTimeLocalInput(), label="From")
    end = forms.DateTimeField(widget=DateTimeLocalInput(), label="Until")
    reason = forms.CharField(max_length=rules.REASON_MAX, required=False, label="Why (moving it)")

    def window(self) -> TimeWindow:
        return TimeWindow(start=self.cleaned_data["start"], end=self.cleaned_data["end"])


class UploadForm(forms.Form):
    """What the browser says about the file it is about to send straight to S3."""

    filename = forms.CharField(max_length=1000, strip=False)
    content_type = forms.CharField(max_length=200, required=False)
    size = forms.IntegerField()
    visibility = forms.ChoiceField(choices=VISIBILITY_CHOICES)

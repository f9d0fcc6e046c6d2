"""The site's page for staff: :class:`SiteForm`, with access hours and contacts as rows of
boxes (days to tick, times, names) instead of JSON, rendered by the server (no JavaScript).

The rows only turn what staff typed into the lists the API takes (``{"days": ["mon"], "opens":
"07:00", "closes": "18:00"}``) and hand them, with the rest of the form, to
``facilities.services``: the rules of ``facilities.domain.fields`` decide, and what they refuse
(``access_hours[1].closes``) is shown on the row it came from, in words. A row left empty is
ignored; *Remove* drops an existing row; two empty rows take new ones."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from facilities.domain.errors import DuplicateCode, ParentArchived, StaleSite
from facilities.domain.fields import (
    ACCESS_HOURS_MAX,
    BLANK_PROBLEM,
    CONTACT_LIMITS,
    CONTACTS_MAX,
    NO_DAY_PROBLEM,
    TIME_PROBLEM,
    WEEKDAYS,
    too_many,
)
from facilities.domain.labels import DAY_LABELS
from facilities.models import ADDRESS_COLUMNS, Site
from facilities.services import check_change, check_create
from kernel.errors import ValidationError as DomainValidationError

#: A rule's path into a list (``access_hours[1].closes``, ``contacts[0]``): the list, the
#: item's place in it, the item's field.
_LIST_ITEM = re.compile(r"^(access_hours|contacts)\[(\d+)\](?:\.(\w+))?$")
#: What a time box sends: ``HH:MM``, or ``HH:MM:SS`` in some browsers (whole minutes only).
_WHOLE_MINUTE = re.compile(r"^(\d\d:\d\d):00(\.0+)?$")

HOURS_HELP = (
    "When the site can be entered, on the site's own clock (its time zone above). Tick the "
    "days, set when it opens and closes. A window that closes at or before it opens runs past "
    "midnight: 22:00 to 06:00 is overnight, 00:00 to 00:00 is the whole day. Fill an empty row "
    "to add a window (save for more empty rows); tick Remove to take one away."
)
CONTACTS_HELP = (
    "Who to call about the site. Fill an empty row to add someone (save for more empty rows); "
    "tick Remove to take one away."
)


class ClockInput(forms.TextInput):
    """A browser's time box (``<input type=time>``, a text box where there is none)."""

    input_type = "time"

    def format_value(self, value: Any) -> str | None:
        # A time box cannot hold 24:00. 00:00 closes at the same midnight (a window closing
        # at or before it opens runs past midnight), and the row keeps 24:00 if left so.
        return "00:00" if value == "24:00" else super().format_value(value)


def _clock(value: str) -> str:
    """The browser's value as the rules take times; anything else as typed (for the rules)."""
    whole = _WHOLE_MINUTE.match(value)
    return whole.group(1) if whole else value


class RowForm(forms.Form):
    """One row: its values as a list item of the rules' shape, and the rules' problems with
    that item in the row's words."""

    #: The rules' problem (its start) with an item's field → what the row says instead.
    words: dict[tuple[str, str], str] = {}

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any(data.get(name) for name in self.fields if name != "DELETE")

    def item(self) -> dict[str, Any]:
        raise NotImplementedError

    def report(self, key: str | None, problems: list[str]) -> None:
        field = key if key in self.fields else None
        for said in dict.fromkeys(self.said(key, problem) for problem in problems):
            self.add_error(field, said)

    def said(self, key: str | None, problem: str) -> str:
        for (field, start), words in self.words.items():
            if field == key and problem.startswith(start):
                return words
        return problem


class HoursRow(RowForm):
    days = forms.MultipleChoiceField(
        choices=[(day, DAY_LABELS[day]) for day in WEEKDAYS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    opens = forms.CharField(required=False, widget=ClockInput(attrs={"aria-label": "Opens"}))
    closes = forms.CharField(required=False, widget=ClockInput(attrs={"aria-label": "Closes"}))

    words = {
        ("days", NO_DAY_PROBLEM): "Tick at least one day.",
        ("opens", TIME_PROBLEM): "Opens must be a time like 07:00.",
        ("closes", TIME_PROBLEM): "Closes must be a time like 18:00.",
    }

    def item(self) -> dict[str, Any]:
        data = self.cleaned_data
        closes = _clock(data["closes"])
        if closes == "00:00" and self.initial.get("closes") == "24:00":
            closes = "24:00"  # shown as 00:00 (see ClockInput), kept as stored
        return {"days": list(data["days"]), "opens": _clock(data["opens"]), "closes": closes}


def _text(key: str, widget: type[forms.TextInput] = forms.TextInput) -> forms.CharField:
    # The box stops at the rule's length; the rule itself is the rules' (facilities.domain).
    attrs = {"maxlength": CONTACT_LIMITS[key], "aria-label": key.capitalize()}
    return forms.CharField(required=False, widget=widget(attrs=attrs))


class ContactRow(RowForm):
    name = _text("name")
    role = _text("role")
    phone = _text("phone")
    email = _text("email", forms.EmailInput)

    words = {
        ("name", BLANK_PROBLEM): "Give the contact's name.",
    }

    def item(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in CONTACT_LIMITS}


class RowsFormSet(forms.BaseFormSet):
    """The rows of one list: the list's items from the rows kept, in order; the rules'
    problems with item *i* on the row it came from."""

    #: The list's longest length (the rules'), and what is said when it is over.
    limit = 0
    too_many_said = ""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def items(self) -> list[dict[str, Any]] | None:
        """The list the rules take; ``None`` while a row cannot be read (a forged day)."""
        if not self.is_valid():
            return None
        return [form.item() for form in self.kept()]

    def kept(self) -> list[RowForm]:
        """The rows that make the list: neither removed nor left empty."""
        return [
            form
            for form in self.forms
            if not self._should_delete_form(form) and not form.is_blank()
        ]

    def report(self, index: int, key: str | None, problems: list[str]) -> bool:
        """Put the rules' problems with item ``index`` on its row (``False``: no such row)."""
        kept = self.kept()
        if index >= len(kept):
            return False
        kept[index].report(key, problems)
        return True

    def said(self, problems: list[str]) -> list[str]:
        """The rules' problems with the list as a whole, in words."""
        return [self.too_many_said if p == too_many(self.limit) else p for p in problems]

    def rows_with_problems(self) -> int:
        return sum(1 for form in self.forms if form.errors)


class HoursFormSet(RowsFormSet):
    limit = ACCESS_HOURS_MAX
    too_many_said = f"A site has at most {ACCESS_HOURS_MAX} rows of hours: remove one first."


class ContactsFormSet(RowsFormSet):
    limit = CONTACTS_MAX
    too_many_said = f"A site has at most {CONTACTS_MAX} contacts: remove one first."


def _rows(form: type[RowForm], base: type[RowsFormSet]) -> type[RowsFormSet]:
    # Two empty rows to add to (fewer as the list nears its limit); Remove on stored rows.
    return forms.formset_factory(
        form, formset=base, extra=2, max_num=base.limit, can_delete=True, can_delete_extra=False
    )


HoursRows = _rows(HoursRow, HoursFormSet)
ContactRows = _rows(ContactRow, ContactsFormSet)


class RowsWidget(forms.Widget):
    """A list's rows in place of a JSON text area: renders its formset's rows (the form hands
    it the formset) and reads them back as the list the rules take."""

    formset: RowsFormSet | None = None

    class Media:
        css = {"all": ["facilities/sites.css"]}

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["formset"] = self.formset
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return self.formset.items() if self.formset is not None else None

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def id_for_label(self, id_: str) -> str:
        return ""  # many boxes, each labelled in its row

    def use_required_attribute(self, initial: Any) -> bool:
        return False


class RowsField(forms.Field):
    """A list (access hours, contacts) typed as rows; its value is the list of items."""

    default_error_messages = {"rows": "A row below cannot be read: check it."}

    def __init__(self, *, template_name: str, **kwargs: Any):
        widget = RowsWidget()
        widget.template_name = template_name
        super().__init__(required=False, widget=widget, **kwargs)

    def clean(self, value: Any) -> Any:
        if value is None:
            raise ValidationError(self.error_messages["rows"], code="rows")
        return value

    def has_changed(self, initial: Any, data: Any) -> bool:
        return data is not None and list(initial or []) != data


def _fix_rows(count: int) -> str:
    return "Fix the row marked below." if count == 1 else f"Fix the {count} rows marked below."


class SiteForm(forms.ModelForm):
    #: The version the page showed: a save on another is refused, not lost.
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    access_hours = RowsField(
        template_name="facilities/widgets/access_hours.html",
        label="Access hours",
        help_text=HOURS_HELP,
    )
    contacts = RowsField(
        template_name="facilities/widgets/contacts.html", label="Contacts", help_text=CONTACTS_HELP
    )

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

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["seen_version"].initial = self.instance.version
        self.rows: dict[str, RowsFormSet] = {}
        for name, rows in (("access_hours", HoursRows), ("contacts", ContactRows)):
            if name in self.fields:
                formset = rows(
                    self.data if self.is_bound else None,
                    initial=list(getattr(self.instance, name) or []),
                    prefix=name,
                )
                self.fields[name].widget.formset = formset
                self.rows[name] = formset

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
            self._mark_rows()
        except DuplicateCode as exc:
            self.add_error("code", str(exc))
        except (StaleSite, ParentArchived) as exc:
            self.add_error(None, str(exc))
        return cleaned

    def _report(self, path: str, problems: list[str]) -> None:
        field = path
        if (item := _LIST_ITEM.match(path)) is not None and item.group(1) in self.rows:
            name, index, key = item.groups()
            if self.rows[name].report(int(index), key, problems):
                return
            field = name
        elif path in self.rows:
            problems = self.rows[path].said(problems)
        elif path.startswith("address."):
            field = ADDRESS_COLUMNS.get(path.removeprefix("address."), path)
        elif path == "parent_code":
            field = "parent"
        for problem in problems:
            self.add_error(field if field in self.fields else None, problem)

    def _mark_rows(self) -> None:
        """Rows the rules refused keep the page from saving, and say so above them."""
        for name, formset in self.rows.items():
            if count := formset.rows_with_problems():
                self.add_error(name, _fix_rows(count))

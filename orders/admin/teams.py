"""Teams and their technicians: capacity, categories, working hours; a change that adds
capacity assigns the orders waiting for it at once."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin, messages
from django.db import transaction

from orders.domain.labels import category_label
from orders.domain.model import CATEGORIES
from orders.models import Team, Technician

logger = logging.getLogger(__name__)


class TeamForm(forms.ModelForm):
    """Categories as one checkbox each instead of a JSON text area: staff cannot mistype a
    slug or the brackets, and the team still stores the same JSON list."""

    categories = forms.MultipleChoiceField(
        choices=[(c, category_label(c)) for c in CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        help_text="The team is offered orders of the categories ticked.",
        error_messages={
            "required": "Tick at least one category: a team without one gets no orders."
        },
    )

    class Meta:
        model = Team
        fields = ("code", "name", "categories", "capacity", "business_hours", "active")

    def clean_categories(self) -> list[str]:
        """In CATEGORIES' order whatever order the browser sent them in, so a saved team
        lists them the same way every time."""
        ticked = set(self.cleaned_data["categories"])
        return [c for c in CATEGORIES if c in ticked]


class TechnicianInline(admin.TabularInline):
    """The team's members on the team page, so staff see who can be sent to its orders."""

    model = Technician
    extra = 0
    fields = ("code", "name", "phone", "email", "active")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ("code", "name", "categories_display", "capacity", "business_hours", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = [TechnicianInline]

    @admin.display(description="Categories")
    def categories_display(self, obj: Team) -> str:
        """Reads "HVAC, Electrical" rather than the stored ``['hvac', 'electrical']``."""
        return ", ".join(category_label(str(c)) for c in obj.categories or [])

    def save_model(self, request, obj: Team, form, change) -> None:
        super().save_model(request, obj, form, change)
        if obj.active:
            # Added, raised, activated or given a category: orders waiting for a team of its
            # categories may fit now. Once committed, so the assignment sees the new team.
            categories = list(obj.categories)
            transaction.on_commit(lambda: assign_waiting(request, categories))


@admin.register(Technician)
class TechnicianAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "team", "phone", "active")
    list_filter = ("team", "active")
    search_fields = ("code", "name", "email")
    list_select_related = ("team",)


def assign_waiting(request, categories: list[str]) -> None:
    """Give the capacity a team change added to the orders that have waited longest."""
    from portal.container import order_services

    try:
        assigned = order_services().assignment.assign_waiting(categories=categories)
    except Exception as exc:  # noqa: BLE001 - the team is saved; the periodic pass follows
        logger.warning("could not assign waiting orders after a team change", exc_info=True)
        messages.warning(
            request,
            f"Waiting orders could not be assigned now ({type(exc).__name__}); the accepted "
            "worker's periodic pass will assign them.",
        )
        return
    if assigned:
        messages.success(
            request,
            f"Assigned {len(assigned)} waiting order(s): "
            + ", ".join(f"{o.id[:8]} to {o.assigned_team}" for o in assigned[:10])
            + ("…" if len(assigned) > 10 else ""),
        )

"""Maintenance plans and what became of each occurrence, in the Django database beside the
sites and assets they are about (reference data staff edit; a plan is read once per
occurrence, not per order read). An order a plan creates keeps the plan's id, name and the
occurrence's due time in its own item, so reading an order never joins these tables."""

from __future__ import annotations

import uuid

from django.db import models

from facilities.models import Asset, Site
from integrators.models import Integrator

from .domain.fields import DESCRIPTION_MAX, NAME_MAX, TITLE_MAX
from .domain.recurrence import RULE_MAX


class MaintenancePlan(models.Model):
    """Work that recurs at a site or on an asset: each occurrence becomes one order, created
    ``lead_days`` before it is due, with the occurrence as its requested window's start."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integrator = models.ForeignKey(Integrator, related_name="plans", on_delete=models.PROTECT)
    site = models.ForeignKey(Site, related_name="plans", on_delete=models.PROTECT)
    asset = models.ForeignKey(
        Asset, related_name="plans", null=True, blank=True, on_delete=models.PROTECT
    )
    name = models.CharField(max_length=NAME_MAX)
    recurrence = models.CharField(
        max_length=RULE_MAX, help_text="An RFC 5545 rule, such as FREQ=MONTHLY;BYMONTHDAY=1."
    )
    starts_on = models.DateField(help_text="The first day the rule may fall on.")
    at = models.TimeField(help_text="The time of day it is due, in the site's time zone.")
    lead_days = models.PositiveSmallIntegerField(
        default=0, help_text="Create the order this many days before it is due."
    )
    window_hours = models.PositiveSmallIntegerField(
        default=4, help_text="The requested window's length, from the due time."
    )
    order_title = models.CharField(max_length=TITLE_MAX)
    order_category = models.CharField(max_length=32)
    order_priority = models.CharField(max_length=16, default="normal")
    order_description = models.TextField(blank=True, max_length=DESCRIPTION_MAX)
    #: The next occurrence not handled yet (UTC) and when its order is due to be created;
    #: null when the rule has no more. The scheduler picks plans by ``next_create_at``.
    next_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_create_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Why the last attempt to create an order failed (blank: it did not).
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(editable=False)
    updated_at = models.DateTimeField(editable=False)

    class Meta:
        ordering = ["integrator", "name"]
        indexes = [
            # The scheduler's pick: active plans whose next order is due to be created.
            models.Index(
                fields=["next_create_at"],
                name="plan_due_idx",
                condition=models.Q(paused_at__isnull=True, archived_at__isnull=True),
            ),
            models.Index(fields=["integrator", "name"], name="plan_list_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.paused_at is None and self.archived_at is None

    @property
    def template(self) -> dict[str, str]:
        return {
            "title": self.order_title,
            "category": self.order_category,
            "priority": self.order_priority,
            "description": self.order_description,
        }


class PlanOccurrence(models.Model):
    """What became of one occurrence: its order, or why it was skipped or failed. An
    occurrence with no row is still to come."""

    CREATED = "created"
    SKIPPED = "skipped"
    FAILED = "failed"
    STATE_CHOICES = [(CREATED, "Order created"), (SKIPPED, "Skipped"), (FAILED, "Failed")]

    plan = models.ForeignKey(MaintenancePlan, related_name="occurrences", on_delete=models.CASCADE)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=STATE_CHOICES)
    order_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    #: Who skipped it ("staff:dana", "integrator:acme"); the scheduler for the others.
    by = models.CharField(max_length=200)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["plan", "due_at"]
        constraints = [
            # One fate per occurrence, whoever records it first (two schedulers, a skip).
            models.UniqueConstraint(fields=["plan", "due_at"], name="one_fate_per_occurrence")
        ]

    def __str__(self) -> str:
        return f"{self.plan} at {self.due_at:%Y-%m-%d %H:%M}Z: {self.get_state_display()}"

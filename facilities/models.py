"""Sites: an integrator's locations, as reference data in the Django database (a hierarchy with
a code unique per integrator, written rarely, edited by staff and integrators). Orders keep
their own copy of what they need of a site (docs/sites.md), so reading an order never joins
these tables. The rules live in ``facilities.domain``; only ``facilities.services`` writes."""

from __future__ import annotations

import uuid

from django.db import models

from facilities.domain import assets as asset_rules
from facilities.domain.fields import ADDRESS_LIMITS, CODE_MAX, NAME_MAX, TIME_ZONE_MAX
from facilities.domain.kinds import KIND_LABELS, KINDS
from integrators.models import Integrator


class Site(models.Model):
    """A region, site, building or floor of one integrator; archived, never deleted."""

    KIND_CHOICES = [(kind, KIND_LABELS[kind]) for kind in KINDS]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integrator = models.ForeignKey(Integrator, related_name="sites", on_delete=models.PROTECT)
    code = models.CharField(
        max_length=CODE_MAX, help_text="The integrator's own id for the site (its store id)."
    )
    name = models.CharField(max_length=NAME_MAX)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    parent = models.ForeignKey(
        "self", related_name="children", null=True, blank=True, on_delete=models.PROTECT
    )
    address_line1 = models.CharField(
        "address line 1", max_length=ADDRESS_LIMITS["line1"], blank=True
    )
    address_line2 = models.CharField(
        "address line 2", max_length=ADDRESS_LIMITS["line2"], blank=True
    )
    city = models.CharField(max_length=ADDRESS_LIMITS["city"], blank=True)
    region = models.CharField("state or region", max_length=ADDRESS_LIMITS["region"], blank=True)
    postal_code = models.CharField(max_length=ADDRESS_LIMITS["postal_code"], blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2: US, ES…")
    time_zone = models.CharField(
        max_length=TIME_ZONE_MAX, help_text="IANA name, such as Europe/Madrid."
    )
    access_hours = models.JSONField(default=list, blank=True)
    contacts = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(editable=False)
    updated_at = models.DateTimeField(editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["integrator", "code"]
        constraints = [
            # Archived or not: a code names one site of the integrator for good.
            models.UniqueConstraint(fields=["integrator", "code"], name="site_code_per_integrator")
        ]
        indexes = [
            # The API's list: an integrator's active (or archived) sites by code.
            models.Index(fields=["integrator", "archived_at", "code"], name="site_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def address(self) -> dict[str, str]:
        """The address as the API and the rules name its parts."""
        return {
            "line1": self.address_line1,
            "line2": self.address_line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
        }

    @address.setter
    def address(self, parts: dict[str, str]) -> None:
        for part, value in parts.items():
            setattr(self, ADDRESS_COLUMNS[part], value)


#: Where each part of an address is stored.
ADDRESS_COLUMNS = {
    "line1": "address_line1",
    "line2": "address_line2",
    "city": "city",
    "region": "region",
    "postal_code": "postal_code",
    "country": "country",
}


class Asset(models.Model):
    """A piece of equipment at one of the integrator's sites; retired, never deleted (its
    orders and plans keep pointing at it). The rules are ``facilities.domain.assets``'; only
    ``facilities.asset_services`` writes."""

    IN_SERVICE = asset_rules.IN_SERVICE
    DOWN = asset_rules.DOWN
    RETIRED = asset_rules.RETIRED
    STATUS_CHOICES = [
        (status, asset_rules.STATUS_LABELS[status]) for status in asset_rules.STATUSES
    ]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    integrator = models.ForeignKey(Integrator, related_name="assets", on_delete=models.PROTECT)
    site = models.ForeignKey(Site, related_name="assets", on_delete=models.PROTECT)
    code = models.CharField(
        max_length=CODE_MAX, help_text="The integrator's own id for the asset (its tag)."
    )
    name = models.CharField(max_length=NAME_MAX)
    category = models.CharField(
        max_length=asset_rules.DETAIL_LIMITS["category"],
        blank=True,
        help_text="What kind of equipment: rooftop unit, chiller…",
    )
    make = models.CharField(
        max_length=asset_rules.DETAIL_LIMITS["make"], blank=True, help_text="The manufacturer."
    )
    model = models.CharField(max_length=asset_rules.DETAIL_LIMITS["model"], blank=True)
    serial_number = models.CharField(
        max_length=asset_rules.DETAIL_LIMITS["serial_number"], blank=True
    )
    installed_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=IN_SERVICE)
    notes = models.TextField(blank=True, max_length=asset_rules.NOTES_MAX)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(editable=False)
    updated_at = models.DateTimeField(editable=False)
    status_changed_at = models.DateTimeField(editable=False)

    class Meta:
        ordering = ["integrator", "code"]
        constraints = [
            models.UniqueConstraint(fields=["integrator", "code"], name="asset_code_per_integrator")
        ]
        indexes = [
            # The API's list: an integrator's assets by code, and those of one site.
            models.Index(fields=["integrator", "status", "code"], name="asset_list_idx"),
            models.Index(fields=["site", "code"], name="asset_site_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def retired(self) -> bool:
        return self.status == self.RETIRED

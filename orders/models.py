"""The orders' reference data kept in Django's database (teams, technicians) and the admin's
placeholder for orders, which themselves live in DynamoDB."""

from django.core.exceptions import ValidationError
from django.db import models

from orders.domain.model import CATEGORIES


def validate_categories(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("List at least one category.")
    unknown = sorted(set(map(str, value)) - set(CATEGORIES))
    if unknown:
        raise ValidationError(f"Unknown categories {unknown}; use {', '.join(CATEGORIES)}.")


def validate_business_hours(value: str) -> None:
    from orders.domain.sla import parse_calendar

    try:
        parse_calendar(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class Team(models.Model):
    """A field team; the accepted worker assigns orders to the least loaded active team
    serving the order's category, up to its capacity of open orders."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable id stored on orders.")
    name = models.CharField(max_length=200)
    categories = models.JSONField(default=list, validators=[validate_categories])
    capacity = models.PositiveIntegerField(default=25, help_text="Open orders the team can hold.")
    active = models.BooleanField(default=True)
    business_hours = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_business_hours],
        help_text="Working hours the SLA of this team's orders counts in, e.g. "
        "'mon-fri 08:00-18:00 Europe/Madrid' or '24/7'. Blank: the default calendar "
        "(ORDERS_SLA_CALENDAR).",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Technician(models.Model):
    """A member of a team who visits sites. Orders keep the code and the display name;
    integrators see the name."""

    team = models.ForeignKey(Team, related_name="technicians", on_delete=models.PROTECT)
    code = models.SlugField(max_length=50, unique=True, help_text="Stable id stored on orders.")
    name = models.CharField(max_length=200, help_text="Shown to integrators.")
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    active = models.BooleanField(default=True, help_text="Inactive members get no new orders.")

    class Meta:
        ordering = ["team__code", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.team.code})"


class WorkOrder(models.Model):
    """A placeholder that gives orders a place in the admin and real permissions.

    Orders live in DynamoDB, not in this database: the table is never created, and the admin
    pages for orders are views of their own that call the services (``orders.admin.work_orders``).
    """

    class Meta:
        managed = False
        db_table = "orders_workorder_placeholder"
        verbose_name = "order"
        verbose_name_plural = "orders"
        default_permissions = ("view", "add", "change")
        permissions = [("move_workorder", "Can move orders through the lifecycle")]

    def __str__(self) -> str:
        return "order"

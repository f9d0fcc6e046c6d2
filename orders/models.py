"""Reference data kept in Django's database. Orders themselves live in DynamoDB."""

from django.core.exceptions import ValidationError
from django.db import models

from orders.domain.model import CATEGORIES


def validate_categories(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("List at least one category.")
    unknown = sorted(set(map(str, value)) - set(CATEGORIES))
    if unknown:
        raise ValidationError(f"Unknown categories {unknown}; use {', '.join(CATEGORIES)}.")


class Team(models.Model):
    """A field team; the accepted worker assigns orders to the least loaded active team
    serving the order's category, up to its capacity of open orders."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable id stored on orders.")
    name = models.CharField(max_length=200)
    categories = models.JSONField(default=list, validators=[validate_categories])
    capacity = models.PositiveIntegerField(default=25, help_text="Open orders the team can hold.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

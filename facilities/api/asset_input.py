"""What the assets API accepts: an asset to create or change, and the list's query. These
state the shape (types, lengths, patterns, choices) the OpenAPI document shows; every rule,
shape included, is checked again by ``facilities.domain.assets``, the one place the API and
the admin share."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikit.fields import (
    QuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictRegexField,
    StrictSerializer,
)
from facilities.domain import assets as rules
from facilities.domain.fields import NAME_MAX

from .choices import ASSET_STATUS_CHOICES
from .input import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SiteIdField, code_field, name_field


@extend_schema_field({"type": "string", "format": "date"})
class DateField(StrictRegexField):
    """A calendar date as ``YYYY-MM-DD`` (no time, no zone); the rules check it is a day."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("error_messages", {"invalid": rules.DATE_PROBLEM})
        super().__init__(rules.DATE_PATTERN, trim_whitespace=False, **kwargs)


def detail_field(name: str, help_text: str) -> StrictCharField:
    return StrictCharField(
        max_length=rules.DETAIL_LIMITS[name],
        required=False,
        allow_blank=True,
        help_text=help_text,
    )


class AssetCreateSerializer(StrictSerializer):
    code = code_field(
        help_text="Your own id for the asset (its tag): unique among your assets, retired ones "
        "included."
    )
    name = name_field(NAME_MAX)
    site = SiteIdField(
        required=False,
        help_text="The id of the site it is at (an active site, building or floor of yours); "
        "or `site_code`: one of the two, not both.",
    )
    site_code = code_field(
        required=False, help_text="The code of the site it is at, instead of `site`."
    )
    category = detail_field("category", "What kind of equipment: rooftop unit, chiller…")
    make = detail_field("make", "The manufacturer.")
    model = detail_field("model", "The manufacturer's model.")
    serial_number = detail_field("serial_number", "The serial number on its plate.")
    installed_on = DateField(
        required=False,
        allow_null=True,
        help_text="The day it was installed (YYYY-MM-DD, not in the future); null: not known.",
    )
    status = StrictChoiceField(
        choices=ASSET_STATUS_CHOICES,
        required=False,
        help_text="`in_service` (the default) or `down`; `retired` only for equipment recorded "
        "after it left service. A change to `retired` is refused while open orders are at it "
        "or active maintenance plans are on it (as `POST /v1/assets/{id}/retire` is).",
    )
    notes = StrictCharField(
        max_length=rules.NOTES_MAX,
        required=False,
        allow_blank=True,
        help_text="Anything a technician should know: where it is in the site, how to reach it.",
    )


class AssetUpdateSerializer(AssetCreateSerializer):
    """Only what changes: ``site`` (or ``site_code``) moves it, ``status`` marks it down or
    in service (or retires it)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class AssetListQuerySerializer(QuerySerializer):
    site = SiteIdField(required=False, help_text="The assets at this site (by its id).")
    site_code = code_field(required=False, help_text="The assets at the site with this code.")
    status = StrictChoiceField(
        choices=ASSET_STATUS_CHOICES,
        required=False,
        help_text="Only those in this status; without it, those in service and down "
        "(`retired` lists the retired ones).",
    )
    category = StrictCharField(
        max_length=rules.DETAIL_LIMITS["category"],
        required=False,
        trim_whitespace=False,
        help_text="Assets of this category (exactly, in any case).",
    )
    code = code_field(required=False, help_text="The asset with this code (exactly).")
    q = StrictCharField(
        max_length=NAME_MAX,
        required=False,
        trim_whitespace=False,
        help_text="Assets whose name, code or serial number starts with this, in any case.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(
        max_length=2000, required=False, help_text="The `next_cursor` of the page before."
    )

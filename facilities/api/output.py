"""What the sites API answers: one output serializer per body, which both renders it (the
views return its ``.data``) and documents it; rendered from the ``Site`` model and the
import's report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apikit.output import OutputSerializer, TimestampField
from facilities.domain.import_plan import Refusal
from facilities.models import Site

from .choices import COUNTRY_CHOICES, KIND_CHOICES, WEEKDAY_CHOICES


class SiteAddressOutputSerializer(OutputSerializer):
    line1 = serializers.CharField(allow_blank=True)
    line2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField(allow_blank=True)
    region = serializers.CharField(allow_blank=True, help_text="State, province or county.")
    postal_code = serializers.CharField(allow_blank=True)
    country = serializers.ChoiceField(
        choices=COUNTRY_CHOICES, allow_null=True, help_text="ISO 3166-1 alpha-2; null: none."
    )

    def resolve_country(self, address: Mapping[str, str], context: Mapping[str, Any]) -> Any:
        return address["country"] or None

    class Meta:
        ref_name = "SiteAddress"


class AccessHoursOutputSerializer(OutputSerializer):
    days = serializers.ListField(
        child=serializers.ChoiceField(choices=WEEKDAY_CHOICES), help_text="In the week's order."
    )
    opens = serializers.CharField(help_text="HH:MM in the site's time zone.")
    closes = serializers.CharField(
        help_text="HH:MM (24:00: the end of the day); at or before `opens`: the next day."
    )

    class Meta:
        ref_name = "AccessHours"


class SiteContactOutputSerializer(OutputSerializer):
    name = serializers.CharField()
    role = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True, help_text="Empty or an email address.")

    class Meta:
        ref_name = "SiteContact"


class SiteOutputSerializer(OutputSerializer):
    id = serializers.UUIDField()
    code = serializers.CharField(help_text="Your own id for the site.")
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    parent = serializers.UUIDField(
        source="parent_id", allow_null=True, help_text="The site it is under; null: the top."
    )
    parent_code = serializers.CharField(allow_null=True, help_text="The parent's code.")
    address = SiteAddressOutputSerializer()
    time_zone = serializers.CharField(help_text="IANA name.")
    access_hours = AccessHoursOutputSerializer(many=True)
    contacts = SiteContactOutputSerializer(many=True)
    archived = serializers.BooleanField()
    version = serializers.IntegerField(help_text="Counts changes; the ETag.")
    created_at = TimestampField()
    updated_at = TimestampField()
    archived_at = TimestampField(allow_null=True)

    def resolve_parent_code(self, site: Site, context: Mapping[str, Any]) -> str | None:
        return site.parent.code if site.parent_id is not None else None

    class Meta:
        ref_name = "Site"


class SitePageOutputSerializer(OutputSerializer):
    results = SiteOutputSerializer(many=True, help_text="By code.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
    )
    next = serializers.URLField(
        allow_null=True, help_text="The URL of the next page (same filters); null on the last."
    )

    class Meta:
        ref_name = "SitePage"


class RefusedRowOutputSerializer(OutputSerializer):
    row = serializers.IntegerField(
        help_text="The row as a person counts it: in a CSV file the header is row 1, so the "
        "first site is row 2; in JSON, the site's position in `sites`, from 1."
    )
    code = serializers.CharField(allow_null=True, help_text="The row's code, if it had one.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The problems of each field of the row (`time_zone`, `address.country`, "
        "`parent_code`; `row` for the row as a whole).",
    )

    def resolve_errors(self, refusal: Refusal, context: Mapping[str, Any]) -> dict:
        return {name: list(problems) for name, problems in refusal.errors.items()}

    class Meta:
        ref_name = "RefusedRow"


class SiteImportReportOutputSerializer(OutputSerializer):
    created = serializers.IntegerField(help_text="Sites created.")
    updated = serializers.IntegerField(help_text="Sites changed (their version moved on).")
    unchanged = serializers.IntegerField(help_text="Sites already as their row says.")
    refused = RefusedRowOutputSerializer(many=True, help_text="The rows not stored, by row.")

    class Meta:
        ref_name = "SiteImportReport"

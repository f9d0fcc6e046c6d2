"""What the assets API answers: one output serializer per body, which both renders it (the
views return its ``.data``) and documents it; rendered from the ``Asset`` model (its site read
with it: ``select_related``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from apikit.output import OutputSerializer, TimestampField
from facilities.models import Asset

from .choices import ASSET_STATUS_CHOICES


def _link(context: Mapping[str, Any], path: str) -> str:
    request = context.get("request")
    return path if request is None else request.build_absolute_uri(path)


class AssetLinksOutputSerializer(OutputSerializer):
    # Absolute URLs when the request is known, else paths.
    self = serializers.URLField(help_text="This asset.")
    site = serializers.URLField(help_text="The site it is at.")

    def resolve_self(self, asset: Asset, context: Mapping[str, Any]) -> str:
        return _link(context, f"/v1/assets/{asset.pk}")

    def resolve_site(self, asset: Asset, context: Mapping[str, Any]) -> str:
        return _link(context, f"/v1/sites/{asset.site_id}")

    class Meta:
        ref_name = "AssetLinks"


class AssetOutputSerializer(OutputSerializer):
    id = serializers.UUIDField()
    code = serializers.CharField(help_text="Your own id for the asset (its tag).")
    name = serializers.CharField()
    site = serializers.UUIDField(source="site_id", help_text="The site it is at.")
    site_code = serializers.CharField(help_text="The site's code.")
    site_name = serializers.CharField(help_text="The site's name.")
    category = serializers.CharField(allow_blank=True)
    make = serializers.CharField(allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    serial_number = serializers.CharField(allow_blank=True)
    installed_on = serializers.DateField(allow_null=True, help_text="YYYY-MM-DD; null: not known.")
    status = serializers.ChoiceField(choices=ASSET_STATUS_CHOICES)
    notes = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField(help_text="Counts changes; the ETag.")
    created_at = TimestampField()
    updated_at = TimestampField()
    status_changed_at = TimestampField(help_text="When its status last changed (or it was made).")
    links = AssetLinksOutputSerializer(source="*")

    def resolve_site_code(self, asset: Asset, context: Mapping[str, Any]) -> str:
        return asset.site.code

    def resolve_site_name(self, asset: Asset, context: Mapping[str, Any]) -> str:
        return asset.site.name

    class Meta:
        ref_name = "Asset"


class AssetPageOutputSerializer(OutputSerializer):
    results = AssetOutputSerializer(many=True, help_text="By code.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` for the next page; null on the last page."
    )
    next = serializers.URLField(
        allow_null=True, help_text="The URL of the next page (same filters); null on the last."
    )

    class Meta:
        ref_name = "AssetPage"

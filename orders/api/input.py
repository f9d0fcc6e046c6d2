"""What the orders API accepts: request bodies and query parameters. Limits come from the
domain rules, so the API, the admin and the workers agree on what a valid order is; the
strict fields (``apikit.fields``) refuse what DRF would quietly convert or drop."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikit.fields import (
    MultipleChoiceListField,
    QuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictEmailField,
    StrictIntegerField,
    StrictRegexField,
    StrictSerializer,
)
from orders.attachments import UPLOAD_ID
from orders.domain import rules
from orders.domain.model import CATEGORIES, Contact, Priority, TimeWindow, Visibility
from orders.domain.rules import FILENAME_MAX, OrderInput
from orders.domain.workflow import STATUSES
from orders.repository.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


class ContactSerializer(StrictSerializer):
    name = StrictCharField(max_length=rules.CONTACT_FIELD_MAX, required=False, allow_blank=True)
    phone = StrictCharField(max_length=rules.CONTACT_FIELD_MAX, required=False, allow_blank=True)
    email = StrictEmailField(max_length=rules.CONTACT_FIELD_MAX, required=False, allow_blank=True)


class WindowSerializer(StrictSerializer):
    start = StrictDateTimeField()
    end = StrictDateTimeField()


#: A site's or an asset's id: a UUID written out (any case).
PLACE_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@extend_schema_field({"type": "string", "format": "uuid"})
class PlaceIdField(StrictRegexField):
    """The id of one of the caller's sites or assets, as ``/v1/sites`` and ``/v1/assets``
    give it; handed on in its usual form (lower case)."""

    def __init__(self, kind: str, **kwargs: Any):
        kwargs.setdefault("error_messages", {"invalid": f"Must be {kind} id (a UUID)."})
        super().__init__(PLACE_ID_PATTERN, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(data)).lower()


class OrderCreateSerializer(StrictSerializer):
    title = StrictCharField(max_length=rules.TITLE_MAX)
    category = StrictChoiceField(choices=CATEGORIES)
    priority = StrictChoiceField(choices=[p.value for p in Priority], default=Priority.NORMAL.value)
    site = StrictCharField(
        max_length=rules.SITE_MAX,
        required=False,
        help_text=(
            "Where the work is, in your words. Required unless `site_id` or `asset_id` is "
            "given; then, when left out, the site's name."
        ),
    )
    site_id = PlaceIdField(
        "a site",
        required=False,
        allow_null=True,
        help_text=(
            "One of your sites (`/v1/sites`), active (not archived): the order is at it. "
            "Checked before anything is stored: another integrator's or an unknown id is a "
            "400 naming this field."
        ),
    )
    asset_id = PlaceIdField(
        "an asset",
        required=False,
        allow_null=True,
        help_text=(
            "One of your assets (`/v1/assets`), not retired: the work is on it. Alone, it puts "
            "the order at the asset's site; with `site_id`, the asset must be at that site or "
            "a site under it."
        ),
    )
    # Taken exactly as sent: trimming "WO-1\n" would store another reference than the
    # client's (and find its order under a key it never sent).
    external_reference = StrictRegexField(
        rules.REFERENCE_PATTERN,
        max_length=rules.REFERENCE_MAX,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        error_messages={"invalid": rules.REFERENCE_PROBLEM},
    )
    description = StrictCharField(
        max_length=rules.DESCRIPTION_MAX, required=False, allow_blank=True
    )
    contact = ContactSerializer(required=False, allow_null=True)
    requested_window = WindowSerializer(required=False, allow_null=True)
    metadata = serializers.DictField(
        required=False,
        help_text=(
            f"Your own data, returned as sent: at most {rules.METADATA_MAX_KEYS} keys and "
            f"{rules.METADATA_MAX_BYTES} bytes as JSON."
        ),
    )

    def to_input(self) -> OrderInput:
        data = self.validated_data
        contact = data.get("contact")
        window = data.get("requested_window")
        return OrderInput(
            title=data["title"],
            category=data["category"],
            priority=data["priority"],
            site=data.get("site", ""),
            external_reference=data.get("external_reference"),
            description=data.get("description", ""),
            contact=Contact(**{k: contact.get(k, "") for k in ("name", "phone", "email")})
            if contact
            else None,
            requested_window=TimeWindow(start=window["start"], end=window["end"])
            if window
            else None,
            metadata=data.get("metadata") or {},
        )

    def to_internal_value(self, data: Any) -> Any:
        # `site` is required unless a place is named: said with the other fields' problems
        # (DRF's validate() would only run once every field is fine).
        unplaced = (
            isinstance(data, dict)
            and "site" not in data
            and all(data.get(name) is None for name in ("site_id", "asset_id"))
        )
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unplaced and isinstance(exc.detail, dict) and "site" not in exc.detail:
                raise serializers.ValidationError(
                    {**exc.detail, "site": [rules.SITE_REQUIRED]}
                ) from None
            raise
        if unplaced:
            raise serializers.ValidationError({"site": [rules.SITE_REQUIRED]})
        return value

    def places(self) -> dict[str, str | None]:
        """The ids of the site and the asset the order is at (``None``: not given)."""
        data = self.validated_data
        return {"site_id": data.get("site_id"), "asset_id": data.get("asset_id")}


class NoteCreateSerializer(StrictSerializer):
    text = StrictCharField(max_length=rules.NOTE_MAX, trim_whitespace=False)
    visibility = StrictChoiceField(
        choices=[str(v) for v in Visibility], required=False, default=str(Visibility.PUBLIC)
    )


class TransitionSerializer(StrictSerializer):
    to = StrictChoiceField(choices=[str(s) for s in STATUSES])
    reason = StrictCharField(
        max_length=rules.REASON_MAX, required=False, allow_blank=True, allow_null=True
    )


#: Sites one listing may ask for (each is one term of DynamoDB's ``IN``, which takes 100).
LIST_SITES_MAX = 20


class OrderListQuerySerializer(QuerySerializer):
    status = MultipleChoiceListField(
        child=StrictChoiceField(choices=[str(s) for s in STATUSES]), required=False
    )
    priority = MultipleChoiceListField(
        child=StrictChoiceField(choices=[p.value for p in Priority]), required=False
    )
    category = MultipleChoiceListField(
        child=StrictChoiceField(choices=list(CATEGORIES)), required=False
    )
    # Repeated only, never split on commas: a site is free text ("Warehouse 7, Dock Road").
    # Trimmed in validate(), as sites are stored: "  " is then a site no order has, not a
    # 400 that no schema could predict (JSON Schema's whitespace is not Python's).
    site = serializers.ListField(
        child=StrictCharField(max_length=rules.SITE_MAX, trim_whitespace=False),
        required=False,
        max_length=LIST_SITES_MAX,
        help_text=(
            "Orders at this site, exactly as it was given (case counts; surrounding spaces "
            f"are ignored); repeat for several (at most {LIST_SITES_MAX}), not comma-separated."
        ),
    )
    site_id = PlaceIdField(
        "a site",
        required=False,
        help_text=(
            "Orders at this site of yours (by id; the site's own orders, not those of sites "
            "under it). One value."
        ),
    )
    asset_id = PlaceIdField("an asset", required=False, help_text="Orders on this asset.")
    external_reference = StrictCharField(
        max_length=rules.REFERENCE_MAX, required=False, trim_whitespace=False
    )
    created_after = StrictDateTimeField(required=False)
    created_before = StrictDateTimeField(required=False)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(max_length=2000, required=False)

    repeatable = ("status", "priority", "category", "site")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and before <= after:
            raise serializers.ValidationError({"created_before": ["Must be after created_after."]})
        if "site" in attrs:
            attrs["site"] = [site.strip() for site in attrs["site"]]
        return attrs


class EventFeedQuerySerializer(QuerySerializer):
    after = serializers.CharField(max_length=2000, required=False)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )


class UploadCreateSerializer(StrictSerializer):
    """What the caller says about the file it will upload (the policy holds it to this)."""

    filename = StrictCharField(
        max_length=FILENAME_MAX,
        trim_whitespace=False,
        help_text="The file's name; only its last path part is kept.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # Limits read from settings at use, so the schema, the answer and the policy agree.
        fields = super().get_fields()
        fields["content_type"] = StrictChoiceField(
            choices=list(settings.ATTACHMENT_CONTENT_TYPES),
            help_text="One of the allowed types (ATTACHMENT_CONTENT_TYPES).",
        )
        fields["size"] = StrictIntegerField(
            min_value=1,
            max_value=settings.ATTACHMENT_MAX_BYTES,
            help_text=(
                "The file's exact size in bytes, 1 to `max_bytes` (ATTACHMENT_MAX_BYTES, 25 MiB "
                "by default): the form takes a file of this size only."
            ),
        )
        return fields


class UploadFinishSerializer(StrictSerializer):
    upload_id = StrictRegexField(
        UPLOAD_ID.pattern,
        help_text="The `upload_id` the upload form came with.",
        error_messages={"invalid": "Give the upload_id of an upload form."},
    )

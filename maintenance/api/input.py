"""What the plans API accepts: a plan to create or change, the list's query, a skip. These
state the shape that the OpenAPI document shows; every rule, shape included, is checked again
by ``maintenance.domain`` and the services, the one place the API and the admin share."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikit.fields import (
    QuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictIntegerField,
    StrictRegexField,
    StrictSerializer,
)
from facilities.domain.fields import UUID_PATTERN
from maintenance.domain import fields as rules
from maintenance.domain.recurrence import RULE_MAX
from orders.domain.model import CATEGORIES, Priority

CATEGORY_CHOICES = list(CATEGORIES)
PRIORITY_CHOICES = [p.value for p in Priority]
STATE_CHOICES = ["active", "paused", "archived"]
#: What the rules trim as blank (Python's ``str.strip``), spelled out: ``\s`` is not the same
#: set in the document's patterns (ECMAScript's) as in Python (U+001C to U+001F and U+0085
#: are blank only to Python, U+FEFF only to ECMAScript), so text the document calls valid
#: would otherwise be refused as blank.
BLANKS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: Text with something besides blanks in it (and no NUL, which no string may hold).
NON_BLANK_PATTERN = rf"^[^\x00]*[^\x00{BLANKS}][^\x00]*$"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@extend_schema_field({"type": "string", "format": "uuid"})
class IdField(StrictRegexField):
    def __init__(self, what: str, **kwargs: Any):
        kwargs.setdefault("error_messages", {"invalid": f"Must be {what} id (a UUID)."})
        super().__init__(UUID_PATTERN, trim_whitespace=False, **kwargs)


class OrderTemplateSerializer(StrictSerializer):
    title = StrictRegexField(NON_BLANK_PATTERN, max_length=rules.TITLE_MAX)
    category = StrictChoiceField(choices=CATEGORY_CHOICES)
    priority = StrictChoiceField(choices=PRIORITY_CHOICES, required=False, default="normal")
    description = StrictCharField(
        max_length=rules.DESCRIPTION_MAX, required=False, allow_blank=True
    )

    class Meta:
        ref_name = "PlanOrderTemplate"


class OrderTemplateChangeSerializer(OrderTemplateSerializer):
    """Only the parts that change."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        fields["priority"] = StrictChoiceField(choices=PRIORITY_CHOICES, required=False)
        return fields

    class Meta:
        ref_name = "PlanOrderTemplateChange"


class PlanCreateSerializer(StrictSerializer):
    name = StrictRegexField(NON_BLANK_PATTERN, max_length=rules.NAME_MAX)
    site_id = IdField(
        "a site",
        required=False,
        allow_null=True,
        help_text="Where the work is. With `asset_id` instead: the asset's site.",
    )
    asset_id = IdField(
        "an asset",
        required=False,
        allow_null=True,
        help_text="The equipment the work is on (not retired); its orders carry it.",
    )
    recurrence = StrictCharField(
        max_length=RULE_MAX,
        help_text=(
            "An RFC 5545 `RRULE` without `DTSTART`: `FREQ` (DAILY, WEEKLY, MONTHLY or YEARLY) "
            "and `INTERVAL`, `COUNT`, `UNTIL`, `BYDAY`, `BYMONTHDAY`, `BYMONTH`, `BYSETPOS`, "
            "`BYWEEKNO`, `BYYEARDAY`, `WKST`. Example: `FREQ=MONTHLY;BYDAY=1MO`."
        ),
    )
    starts_on = StrictRegexField(
        rules.DATE_PATTERN,
        trim_whitespace=False,
        help_text="The first day the rule may fall on (YYYY-MM-DD, the site's calendar).",
    )
    at = StrictRegexField(
        rules.AT_PATTERN,
        trim_whitespace=False,
        required=False,
        help_text=(
            f"HH:MM in the site's time zone: when each occurrence is due ({rules.DEFAULT_AT})."
        ),
    )
    lead_days = StrictIntegerField(
        min_value=0,
        max_value=rules.LEAD_DAYS_MAX,
        required=False,
        help_text="Create each order this many days before it is due (0: at the due time).",
    )
    window_hours = StrictIntegerField(
        min_value=1,
        max_value=rules.WINDOW_HOURS_MAX,
        required=False,
        help_text=(
            "The order's requested window runs from the due time for this many hours "
            f"({rules.DEFAULT_WINDOW_HOURS})."
        ),
    )
    order = OrderTemplateSerializer(help_text="What each order says.")


class PlanUpdateSerializer(PlanCreateSerializer):
    """Only what changes (``order``: the parts it names). ``site_id``/``asset_id`` are fixed."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        del fields["site_id"], fields["asset_id"]
        for field in fields.values():
            field.required = False
        fields["order"] = OrderTemplateChangeSerializer(required=False)
        return fields


class PlanListQuerySerializer(QuerySerializer):
    site = IdField("a site", required=False, help_text="The plans at this site.")
    asset = IdField("an asset", required=False, help_text="The plans on this asset.")
    state = StrictChoiceField(
        choices=STATE_CHOICES,
        required=False,
        help_text="Only plans in this state (absent: active and paused).",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(
        max_length=2000, required=False, help_text="The `next_cursor` of the page before."
    )


class OccurrenceQuerySerializer(QuerySerializer):
    past = StrictChoiceField(
        choices=["true", "false"],
        default="false",
        help_text="`true`: what became of past occurrences, latest first, not the coming ones.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


class SkipSerializer(StrictSerializer):
    due_at = StrictDateTimeField(help_text="The occurrence, as `due_at` lists it.")
    reason = StrictRegexField(
        NON_BLANK_PATTERN, max_length=500, help_text="Why, for the people who read the plan."
    )

    class Meta:
        ref_name = "PlanOccurrenceSkip"


class UnskipSerializer(StrictSerializer):
    due_at = StrictDateTimeField(help_text="The skipped occurrence, as `due_at` lists it.")

    class Meta:
        ref_name = "PlanOccurrenceUnskip"

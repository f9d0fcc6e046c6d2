"""What the sites API accepts: a site to create or change, the list's query, and an import's
JSON body. These state the shape (types, lengths, patterns, choices) that the OpenAPI
document shows; every rule, shape included, is checked again by ``facilities.domain``, the
one place the API, the admin and the import share."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apikit.fields import (
    QuerySerializer,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictRegexField,
    StrictSerializer,
)
from facilities.domain import fields as rules
from kernel.formats import REFERENCE_PATTERN, REFERENCE_PROBLEM

from .choices import COUNTRY_CHOICES, KIND_CHOICES, WEEKDAY_CHOICES

#: What the rules trim as blank (Python's ``str.strip``), spelled out: ``\s`` is another set
#: in the document's (ECMAScript) patterns than in Python (U+001C to U+001F, U+0085; U+FEFF).
BLANKS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: Text with something besides blanks in it (and no NUL, which no string may hold).
NON_BLANK_PATTERN = rf"^[^\x00]*[^\x00{BLANKS}][^\x00]*$"
#: A page of the list: 50 sites unless ``limit`` asks for another number, at most 200.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@extend_schema_field({"type": "string", "format": "uuid"})
class SiteIdField(StrictRegexField):
    """A site's id: a UUID written out (any case)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("error_messages", {"invalid": "Must be a site id (a UUID)."})
        super().__init__(rules.UUID_PATTERN, trim_whitespace=False, **kwargs)


def code_field(**kwargs: Any) -> StrictRegexField:
    # Taken exactly as sent, like an order's external reference: " S-1" is not "S-1".
    return StrictRegexField(
        REFERENCE_PATTERN,
        max_length=rules.CODE_MAX,
        trim_whitespace=False,
        error_messages={"invalid": REFERENCE_PROBLEM},
        **kwargs,
    )


def name_field(limit: int, **kwargs: Any) -> StrictRegexField:
    return StrictRegexField(
        NON_BLANK_PATTERN,
        max_length=limit,
        error_messages={"invalid": rules.BLANK_PROBLEM},
        **kwargs,
    )


class SiteAddressSerializer(StrictSerializer):
    line1 = StrictCharField(max_length=200, required=False, allow_blank=True)
    line2 = StrictCharField(max_length=200, required=False, allow_blank=True)
    city = StrictCharField(max_length=100, required=False, allow_blank=True)
    region = StrictCharField(
        max_length=100, required=False, allow_blank=True, help_text="State, province or county."
    )
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True)
    country = StrictChoiceField(
        choices=COUNTRY_CHOICES,
        required=False,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2, in capitals (US, ES); null: none.",
    )


class AccessHoursSerializer(StrictSerializer):
    """When the site can be entered: on these days, from ``opens`` to ``closes`` (a window
    that closes at or before it opens runs past midnight: 22:00 to 06:00 is overnight,
    00:00 to 00:00 the whole day)."""

    days = serializers.ListField(
        child=StrictChoiceField(choices=WEEKDAY_CHOICES),
        min_length=1,
        max_length=len(WEEKDAY_CHOICES),
        help_text="The days the window opens on (a day named twice counts once).",
    )
    opens = StrictRegexField(
        rules.OPENS_PATTERN,
        trim_whitespace=False,
        help_text="HH:MM, 00:00 to 23:59, in the site's time zone.",
        error_messages={"invalid": rules.TIME_PROBLEM + "."},
    )
    closes = StrictRegexField(
        rules.CLOSES_PATTERN,
        trim_whitespace=False,
        help_text="HH:MM, 00:00 to 24:00, in the site's time zone.",
        error_messages={"invalid": rules.TIME_PROBLEM + ", or 24:00."},
    )


class SiteContactSerializer(StrictSerializer):
    name = name_field(rules.CONTACT_LIMITS["name"])
    role = StrictCharField(
        max_length=rules.CONTACT_LIMITS["role"],
        required=False,
        allow_blank=True,
        help_text="Store manager, security desk…",
    )
    phone = StrictCharField(
        max_length=rules.CONTACT_LIMITS["phone"], required=False, allow_blank=True
    )
    email = StrictEmailField(
        max_length=rules.CONTACT_LIMITS["email"], required=False, allow_blank=True
    )


class SiteCreateSerializer(StrictSerializer):
    code = code_field(help_text="Your own id for the site (its store id): unique among your sites.")
    name = name_field(rules.NAME_MAX)
    kind = StrictChoiceField(
        choices=KIND_CHOICES,
        help_text=(
            "A `site` may be under a `region`, a `building` under a `site`, a `floor` under a "
            "`site` or a `building`; any may stand at the top; regions do not nest."
        ),
    )
    parent = SiteIdField(
        required=False,
        allow_null=True,
        help_text="The id of the site it is under; null or absent: at the top.",
    )
    parent_code = code_field(
        required=False,
        allow_null=True,
        help_text="The code of the site it is under, instead of `parent`: not both.",
    )
    address = SiteAddressSerializer(required=False)
    time_zone = StrictRegexField(
        rules.TIME_ZONE_PATTERN,
        max_length=rules.TIME_ZONE_MAX,
        trim_whitespace=False,
        help_text="An IANA time zone name, such as `Europe/Madrid`: access hours and visits "
        "are in it.",
    )
    access_hours = serializers.ListField(
        child=AccessHoursSerializer(),
        max_length=rules.ACCESS_HOURS_MAX,
        required=False,
        help_text="When the site can be entered; empty: not said.",
    )
    contacts = serializers.ListField(
        child=SiteContactSerializer(), max_length=rules.CONTACTS_MAX, required=False
    )


class SiteUpdateSerializer(SiteCreateSerializer):
    """Only what changes: ``address`` changes the parts it names; ``access_hours`` and
    ``contacts`` replace the lists; ``parent`` (or ``parent_code``) null moves it to the top."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class SiteImportSerializer(StrictSerializer):
    """An import as JSON (documents the body; each site is checked on its own, as a row)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # The limit read from settings at use, so the document and the answer agree.
        return {
            "sites": serializers.ListField(
                child=SiteCreateSerializer(),
                max_length=settings.SITES_IMPORT_MAX_ROWS,
                help_text=(
                    "The sites, each the shape `POST /v1/sites` takes (a parent by "
                    "`parent_code` may come later in the list). Each is checked on its own: "
                    "one that breaks a rule is refused in the report, the others are stored."
                ),
            )
        }


class SiteListQuerySerializer(QuerySerializer):
    kind = StrictChoiceField(choices=KIND_CHOICES, required=False)
    parent = SiteIdField(required=False, help_text="The sites right under this one.")
    code = code_field(required=False, help_text="The site with this code (exactly).")
    q = StrictCharField(
        max_length=rules.NAME_MAX,
        required=False,
        trim_whitespace=False,
        help_text="Sites whose name or code starts with this, in any case.",
    )
    archived = StrictChoiceField(
        choices=["true", "false"],
        default="false",
        help_text="`true`: the archived sites instead of the active ones.",
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    cursor = serializers.CharField(
        max_length=2000, required=False, help_text="The `next_cursor` of the page before."
    )

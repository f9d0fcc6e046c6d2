"""The values the sites and assets API names, from the rules (each one enum component of the
OpenAPI document: ``SiteKind``, ``Country``, ``Weekday``, ``AssetStatus``)."""

from __future__ import annotations

from facilities.domain.assets import STATUSES
from facilities.domain.countries import COUNTRY_CODES
from facilities.domain.fields import WEEKDAYS
from facilities.domain.kinds import KINDS

KIND_CHOICES = list(KINDS)
COUNTRY_CHOICES = list(COUNTRY_CODES)
WEEKDAY_CHOICES = list(WEEKDAYS)
ASSET_STATUS_CHOICES = list(STATUSES)

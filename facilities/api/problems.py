"""The sites' and assets' own problem documents: the refusals whose answer says more than their kind
(``apikit.problems`` answers the rest by kind: ``SiteNotFound`` and ``AssetNotFound`` are
any 404 ``not-found``).
Imported for its registrations by ``facilities.api.urls``, before any request."""

from __future__ import annotations

from rest_framework import serializers, status

from apikit.problems import register
from facilities.domain.errors import (
    AssetInUse,
    AssetRetired,
    AssetSiteArchived,
    DuplicateAssetCode,
    DuplicateCode,
    ParentArchived,
    SiteArchived,
    SiteInUse,
    StaleAsset,
    StaleSite,
)
from facilities.domain.import_rows import TooManyRows

# The member is the orders' too ("current_version", documented with their stale-version).
register(
    StaleSite,
    status.HTTP_412_PRECONDITION_FAILED,
    "stale-version",
    "Site changed",
    extra=lambda e: {"current_version": e.current_version},
)
register(
    DuplicateCode,
    status.HTTP_409_CONFLICT,
    "duplicate-code",
    "Duplicate site code",
    extra=lambda e: {"existing_site": f"/v1/sites/{e.site_id}", "errors": {"code": [str(e)]}},
    members={
        "existing_site": serializers.CharField(
            required=False, help_text="`duplicate-code`: the path of the site with that code."
        )
    },
)
register(SiteArchived, status.HTTP_409_CONFLICT, "site-archived", "Site archived")
register(ParentArchived, status.HTTP_409_CONFLICT, "parent-archived", "Parent archived")
register(
    SiteInUse,
    status.HTTP_409_CONFLICT,
    "site-in-use",
    "Site in use",
    extra=lambda e: {"reasons": e.reasons},
    members={
        "reasons": serializers.ListField(
            child=serializers.CharField(),
            required=False,
            help_text=(
                "`site-in-use`, `asset-in-use`: what keeps the site from being archived, or "
                "the asset from being retired."
            ),
        )
    },
)
register(
    TooManyRows,
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "too-many-rows",
    "Too many rows",
    extra=lambda e: {"max_rows": e.limit},
    members={
        "max_rows": serializers.IntegerField(
            required=False, help_text="`too-many-rows`: the most sites one import may bring."
        )
    },
)

# -- assets: the same codes as the sites' where they mean the same ---------------------------

register(
    StaleAsset,
    status.HTTP_412_PRECONDITION_FAILED,
    "stale-version",
    "Asset changed",
    extra=lambda e: {"current_version": e.current_version},
)
register(
    DuplicateAssetCode,
    status.HTTP_409_CONFLICT,
    "duplicate-code",
    "Duplicate asset code",
    extra=lambda e: {"existing_asset": f"/v1/assets/{e.asset_id}", "errors": {"code": [str(e)]}},
    members={
        "existing_asset": serializers.CharField(
            required=False, help_text="`duplicate-code`: the path of the asset with that code."
        )
    },
)
register(AssetRetired, status.HTTP_409_CONFLICT, "asset-retired", "Asset retired")
# The reasons member is documented with site-in-use's above.
register(
    AssetInUse,
    status.HTTP_409_CONFLICT,
    "asset-in-use",
    "Asset in use",
    extra=lambda e: {"reasons": e.reasons},
)
register(AssetSiteArchived, status.HTTP_409_CONFLICT, "site-archived", "Site archived")

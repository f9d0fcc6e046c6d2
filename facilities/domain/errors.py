"""The sites' and assets' refusals, each one of the kernel's kinds (``kernel.errors``) so that
every adapter answers it the way it answers its kind; ``facilities.api.problems`` gives the
few that say more their own problem code."""

from __future__ import annotations

from collections.abc import Iterable

from kernel.errors import Conflict, DomainError, NotFound


class SiteNotFound(NotFound):
    """No site of the caller has this id (another integrator's is not the caller's to see)."""

    def __init__(self, site_id: str):
        self.site_id = site_id
        super().__init__(f"No site of yours has the id {site_id!r}.")


class StaleSite(DomainError):
    """The site is no longer at the version the caller saw (``If-Match``, a form's version)."""

    def __init__(self, *, site_id: str, expected_version: int, current_version: int):
        self.site_id = site_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"The site changed: it is at version {current_version}, not {expected_version}. "
            "Read it again and repeat the change on what it says now."
        )


class DuplicateCode(Conflict):
    """The integrator already has a site (archived or not) with this code."""

    def __init__(self, *, code: str, site_id: str):
        self.code = code
        self.site_id = site_id
        super().__init__(f"The code {code!r} is already used by your site {site_id}.")


class SiteArchived(Conflict):
    """An archived site is kept as it was: restore it before changing it."""

    def __init__(self, site_id: str):
        self.site_id = site_id
        super().__init__("The site is archived; restore it before changing it.")


class SiteInUse(Conflict):
    """Something still needs the site active (its active sites below it; later, open orders)."""

    def __init__(self, site_id: str, reasons: Iterable[str]):
        self.site_id = site_id
        self.reasons = list(reasons)
        super().__init__("The site cannot be archived: " + " ".join(self.reasons))


class ParentArchived(Conflict):
    """A site cannot be active below an archived one: restore the parent first."""

    def __init__(self, site_id: str, parent_code: str):
        self.site_id = site_id
        self.parent_code = parent_code
        super().__init__(f"Its parent {parent_code!r} is archived; restore the parent first.")


# -- assets ---------------------------------------------------------------------------------


class AssetNotFound(NotFound):
    """No asset of the caller has this id (another integrator's is not the caller's to see)."""

    def __init__(self, asset_id: str):
        self.asset_id = asset_id
        super().__init__(f"No asset of yours has the id {asset_id!r}.")


class StaleAsset(DomainError):
    """The asset is no longer at the version the caller saw (``If-Match``, a form's version)."""

    def __init__(self, *, asset_id: str, expected_version: int, current_version: int):
        self.asset_id = asset_id
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"The asset changed: it is at version {current_version}, not {expected_version}. "
            "Read it again and repeat the change on what it says now."
        )


class DuplicateAssetCode(Conflict):
    """The integrator already has an asset (retired or not) with this code."""

    def __init__(self, *, code: str, asset_id: str):
        self.code = code
        self.asset_id = asset_id
        super().__init__(f"The code {code!r} is already used by your asset {asset_id}.")


class AssetRetired(Conflict):
    """A retired asset is kept as it was: reinstate it before changing it."""

    def __init__(self, asset_id: str):
        self.asset_id = asset_id
        super().__init__("The asset is retired; reinstate it before changing it.")


class AssetInUse(Conflict):
    """Something still needs the asset in service: open orders at it, active plans on it."""

    def __init__(self, asset_id: str, reasons: Iterable[str]):
        self.asset_id = asset_id
        self.reasons = list(reasons)
        super().__init__("The asset cannot be retired: " + " ".join(self.reasons))


class AssetSiteArchived(Conflict):
    """A retired asset cannot come back to an archived site: restore the site first."""

    def __init__(self, asset_id: str, site_code: str):
        self.asset_id = asset_id
        self.site_code = site_code
        super().__init__(
            f"Its site {site_code!r} is archived; restore the site before reinstating the asset."
        )

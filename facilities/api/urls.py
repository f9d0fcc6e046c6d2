"""The sites and assets API's URLs (included under /v1/ by portal.urls)."""

from django.urls import path

from . import problems  # noqa: F401 - the facilities' problem documents, before any request
from .asset_views import (
    AssetCollectionView,
    AssetDetailView,
    AssetReinstateView,
    AssetRetireView,
)
from .views import (
    SiteArchiveView,
    SiteCollectionView,
    SiteDetailView,
    SiteImportView,
    SiteRestoreView,
)

urlpatterns = [
    path("sites", SiteCollectionView.as_view(), name="sites"),
    # Before sites/<id>: "import" is not an id.
    path("sites/import", SiteImportView.as_view(), name="sites-import"),
    path("sites/<str:site_id>", SiteDetailView.as_view(), name="site-detail"),
    path("sites/<str:site_id>/archive", SiteArchiveView.as_view(), name="site-archive"),
    path("sites/<str:site_id>/restore", SiteRestoreView.as_view(), name="site-restore"),
    path("assets", AssetCollectionView.as_view(), name="assets"),
    path("assets/<str:asset_id>", AssetDetailView.as_view(), name="asset-detail"),
    path("assets/<str:asset_id>/retire", AssetRetireView.as_view(), name="asset-retire"),
    path("assets/<str:asset_id>/reinstate", AssetReinstateView.as_view(), name="asset-reinstate"),
]

"""The orders API's URLs, and the contract's (the schema and its interactive docs)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from . import problems  # noqa: F401 - the orders' problem documents, before any request
from .attachment_views import (
    OrderAttachmentDetailView,
    OrderAttachmentsView,
    OrderAttachmentUploadsView,
)
from .views import (
    EventFeedView,
    OrderAliasView,
    OrderCollectionView,
    OrderDetailView,
    OrderEventsView,
    OrderNotesView,
    OrderTransitionsView,
)

# The contract and its docs are public: no key, no throttling.
public = {"authentication_classes": [], "permission_classes": [AllowAny], "throttle_classes": []}

urlpatterns = [
    path("events", EventFeedView.as_view(), name="event-feed"),
    path("schema", SpectacularAPIView.as_view(**public), name="api-schema"),
    # Swagger UI's start-up script is a file of its own (?script): the CSP allows no inline one.
    path(
        "docs",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html", **public
        ),
        name="api-docs",
    ),
    path("orders", OrderCollectionView.as_view(), name="orders"),
    # The original design's endpoint, kept so its clients keep working.
    path("order", OrderAliasView.as_view(), name="order-alias"),
    path("orders/<str:order_id>", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:order_id>/events", OrderEventsView.as_view(), name="order-events"),
    path(
        "orders/<str:order_id>/transitions",
        OrderTransitionsView.as_view(),
        name="order-transitions",
    ),
    path("orders/<str:order_id>/notes", OrderNotesView.as_view(), name="order-notes"),
    path(
        "orders/<str:order_id>/attachments/uploads",
        OrderAttachmentUploadsView.as_view(),
        name="order-attachment-uploads",
    ),
    path(
        "orders/<str:order_id>/attachments",
        OrderAttachmentsView.as_view(),
        name="order-attachments",
    ),
    path(
        "orders/<str:order_id>/attachments/<str:attachment_id>",
        OrderAttachmentDetailView.as_view(),
        name="order-attachment",
    ),
]

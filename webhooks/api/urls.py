from django.urls import path

from webhooks.api.views import (
    DeliveryCollectionView,
    EndpointCollectionView,
    EndpointDetailView,
    RedeliverView,
)

urlpatterns = [
    path("webhooks", EndpointCollectionView.as_view(), name="webhooks"),
    path("webhooks/<str:endpoint_id>", EndpointDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<str:endpoint_id>/deliveries",
        DeliveryCollectionView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        RedeliverView.as_view(),
        name="webhook-redeliver",
    ),
]

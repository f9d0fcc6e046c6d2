from django.urls import path

from .views import OrderCollectionView, OrderDetailView, OrderEventsView, OrderTransitionsView

urlpatterns = [
    path("orders", OrderCollectionView.as_view(), name="orders"),
    # The original design's endpoint, kept so its clients keep working.
    path("order", OrderCollectionView.as_view(), name="order-alias"),
    path("orders/<str:order_id>", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:order_id>/events", OrderEventsView.as_view(), name="order-events"),
    path(
        "orders/<str:order_id>/transitions",
        OrderTransitionsView.as_view(),
        name="order-transitions",
    ),
]

from django.urls import path

from .views import OrderCollectionView, OrderDetailView

urlpatterns = [
    path("orders", OrderCollectionView.as_view(), name="orders"),
    # The original design's endpoint, kept so its clients keep working.
    path("order", OrderCollectionView.as_view(), name="order-alias"),
    path("orders/<str:order_id>", OrderDetailView.as_view(), name="order-detail"),
]

from django.contrib import admin
from django.urls import include, path

# /healthz and /readyz are answered by portal.health.HealthCheckMiddleware.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/", include("orders.api.urls")),
    path("v1/", include("webhooks.api.urls")),
]

handler404 = "orders.api.errors.not_found_view"
handler500 = "orders.api.errors.server_error_view"

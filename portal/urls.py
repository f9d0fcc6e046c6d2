from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

#: The site's icon; every page links it, and /favicon.ico leads to it.
FAVICON = "portal/favicon.svg"


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on their own (on the API's JSON, say): send them to the
    icon instead of a 404 in every log. Not permanent: the file's hashed name changes with it."""
    response = HttpResponseRedirect(static(FAVICON))
    response["Cache-Control"] = "public, max-age=86400"
    return response


# /healthz and /readyz are answered by portal.health.HealthCheckMiddleware.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/", include("orders.api.urls")),
    path("v1/", include("webhooks.api.urls")),
    path("v1/", include("facilities.api.urls")),
    path("v1/", include("maintenance.api.urls")),
    path("favicon.ico", favicon, name="favicon"),
]

handler404 = "apikit.problems.not_found_view"
handler500 = "apikit.problems.server_error_view"

"""The admin site: Django's, with failed logins throttled per user name and client address."""

from __future__ import annotations

import logging
import math

from django.contrib import admin
from django.template.response import TemplateResponse

from portal import login_throttle
from portal.client_address import client_address

log = logging.getLogger(__name__)


class PortalAdminSite(admin.AdminSite):
    site_header = "Work-order portal"
    site_title = "Work-order portal"
    index_title = "Operations"
    #: The API and the admin are the whole site: no public page for "View site" to open.
    site_url = None
    #: No navigation sidebar: its "Start typing to filter…" box looked like the order search
    #: (it only filters the menu); the breadcrumbs and the index lead everywhere.
    enable_nav_sidebar = False
    index_template = "admin/portal_index.html"

    def index(self, request, extra_context=None):
        """Django's index with the dashboard on top, for staff who may view orders."""
        extra = dict(extra_context or {})
        if request.user.has_perm("orders.view_workorder"):
            from portal.container import pipeline_health

            try:
                extra["dashboard"] = pipeline_health().dashboard()
            except Exception:  # noqa: BLE001 - the index must show, whatever AWS does
                log.exception("the admin dashboard could not be read")
                extra["dashboard_unavailable"] = True
        return super().index(request, extra)

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        key = login_throttle.throttle_key(
            request.POST.get("username") or "", client_address(request)
        )
        retry_after = login_throttle.locked_for(key)
        if retry_after:
            minutes = max(1, math.ceil(retry_after / 60))
            response = TemplateResponse(
                request,
                "admin/login_locked.html",
                {**self.each_context(request), "title": "Too many attempts", "minutes": minutes},
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        response = super().login(request, extra_context)
        if request.user.is_authenticated:
            login_throttle.clear(key)
        else:
            login_throttle.record_failure(key)
        return response

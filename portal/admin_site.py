"""The admin site: Django's, with failed logins throttled per user name and client address and
per address alone, and staff sessions ended after ADMIN_IDLE_TIMEOUT_SECONDS without a request."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, reverse

from portal import login_throttle
from portal.client_address import client_address

log = logging.getLogger(__name__)

#: The session's last request (Unix seconds), for the idle timeout.
LAST_ACTIVITY = "portal_last_activity"
#: The stamp is rewritten at most this often: a session write per request would cost a
#: database write per admin page, and a minute is nothing against hours of timeout.
ACTIVITY_RESOLUTION_SECONDS = 60


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

    def __init__(self, name: str = "admin"):
        super().__init__(name)
        self._pages: list[Callable[[admin.AdminSite], list[URLPattern]]] = []

    def register_pages(self, pages: Callable[[admin.AdminSite], list[URLPattern]]) -> None:
        """An app's own pages beside its models' (``operations.admin`` registers the
        pipeline's): each app registers what it shows; the site only composes them."""
        self._pages.append(pages)

    def get_urls(self) -> list[URLPattern]:
        return [url for pages in self._pages for url in pages(self)] + super().get_urls()

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
        """Django's login, refused with 429 (before any password check) while the user name
        from this address, or this address whatever the user name, is locked out."""
        if request.method != "POST":
            return super().login(request, extra_context)
        address = client_address(request)
        user_key = login_throttle.throttle_key(request.POST.get("username") or "", address)
        address_key = login_throttle.address_key(address)
        retry_after = login_throttle.locked_for(user_key, address_key)
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
            # The address's count stays: one valid account must not let its address try
            # other user names for ever.
            login_throttle.clear(user_key)
        else:
            login_throttle.record_failure(user_key)
            login_throttle.record_failure(
                address_key, max_failures=settings.ADMIN_LOGIN_ADDRESS_MAX_FAILURES
            )
        return response


def _duration(seconds: int) -> str:
    """'8 hours', '30 minutes', '90 seconds': the largest unit that divides it."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"  # not reached: every integer is whole seconds


class AdminIdleTimeoutMiddleware:
    """Logs out a session without a request for ADMIN_IDLE_TIMEOUT_SECONDS, and sends an admin
    page's request to the login page (which says why).

    Sessions otherwise last SESSION_COOKIE_AGE from their last write, however long nobody
    used them. Each request of a logged-in session refreshes a last-activity stamp, at most
    once a minute, so that a busy admin costs one session write a minute, not one a request.
    Requests without a logged-in session (the API's, with its bearer keys) are not touched.
    """

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return self.get_response(request)
        now = int(time.time())
        last = session.get(LAST_ACTIVITY)
        timeout = settings.ADMIN_IDLE_TIMEOUT_SECONDS
        if isinstance(last, int) and now - last > timeout:
            logout(request)  # flushes the session: a new, anonymous one from here on
            messages.info(
                request,
                f"You were logged out after {_duration(timeout)} of inactivity.",
                fail_silently=True,
            )
            login = reverse("admin:login")
            if request.path.startswith(reverse("admin:index")) and request.path != login:
                return redirect_to_login(request.get_full_path(), login)
            return self.get_response(request)
        if not isinstance(last, int) or now - last >= ACTIVITY_RESOLUTION_SECONDS:
            session[LAST_ACTIVITY] = now  # saved with the response, extending the cookie too
        return self.get_response(request)

"""The admin site: Django's, with failed logins throttled per user name and address."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.template.response import TemplateResponse


def _key(request) -> str:
    username = (request.POST.get("username") or "").strip().lower()
    address = request.META.get("REMOTE_ADDR", "")
    digest = hashlib.sha256(f"{username}|{address}".encode()).hexdigest()[:32]
    return f"admin-login-failures:{digest}"


class PortalAdminSite(admin.AdminSite):
    site_header = "Work-order portal"
    site_title = "Work-order portal"
    index_title = "Operations"

    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        key = _key(request)
        failures = cache.get(key, 0)
        if failures >= settings.ADMIN_LOGIN_MAX_FAILURES:
            minutes = max(1, settings.ADMIN_LOGIN_LOCKOUT_SECONDS // 60)
            response = TemplateResponse(
                request,
                "admin/login_locked.html",
                {**self.each_context(request), "title": "Too many attempts", "minutes": minutes},
                status=429,
            )
            response["Retry-After"] = str(settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
            return response
        response = super().login(request, extra_context)
        if request.user.is_authenticated:
            cache.delete(key)
        else:
            cache.set(key, failures + 1, timeout=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
        return response

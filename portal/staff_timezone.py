"""Times in the admin in each staff member's own time zone.

The browser says which (``staff.js`` stores ``Intl``'s zone in the ``staff_tz`` cookie); an
unknown or missing zone leaves the default (``TIME_ZONE``, UTC). Only the admin is affected:
the API always speaks UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest
from django.utils import timezone

COOKIE = "staff_tz"


def zone_of(name: str | None) -> ZoneInfo | None:
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class StaffTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        zone = zone_of(request.COOKIES.get(COOKIE)) if request.path.startswith("/admin/") else None
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

"""Who may call the API: integrators with a valid key, each limited to its own rate."""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from integrators.services import Caller, authenticate, key_label

log = logging.getLogger(__name__)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``."""

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1").split()
        if not header:
            return None
        if header[0].lower() != "bearer" or len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the API key as 'Authorization: Bearer <key>'."
            )
        caller = authenticate(header[1])
        if caller is None:
            # Only the prefix is ever logged: it names the key without giving it away.
            log.warning("API key refused: %s", key_label(header[1]))
            raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")
        return caller, caller.key_prefix

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="work-order-portal"'


class IsIntegrator(BasePermission):
    message = "An API key is required."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, Caller)


class IntegratorRateThrottle(SimpleRateThrottle):
    """One budget per integrator, whichever of its keys it uses (``API_RATE_LIMIT``)."""

    scope = "integrator"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT  # read per request, so that it follows the settings

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.user, Caller):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.integrator}

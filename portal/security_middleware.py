"""A Content-Security-Policy on every response (Django 5.2 has none built in).

The policy allows scripts, style sheets, fonts and fetches from this site only, so an
injected ``<script>`` or a link to someone else's script does nothing. The admin and the
API docs (Swagger UI, served from our own static files, with its start-up script as a file of
its own: SpectacularSwaggerSplitView) run under it. A view that sets its own header keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and HEADER not in response:
            response[HEADER] = self.policy
        return response


def policy_allowing(policy: str, extra: dict[str, list[str]]) -> str:
    """``policy`` with more sources for some directives (a directive it lacks is added), for
    the one page that needs them: e.g. an order's page posts files to S3 and shows them."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    for name, sources in extra.items():
        have = directives.setdefault(name, [])
        have += [s for s in sources if s not in have]
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())

"""Every list of the API pages the same way: an opaque cursor, and the URL of the next page
(the same query with that cursor) so that a client can just follow it."""

from __future__ import annotations

from rest_framework.request import Request


def next_link(
    request: Request, cursor: str | None, *, parameter: str = "cursor", replacing: str = ""
) -> str | None:
    """The URL of the next page: the same query with the page's cursor in ``parameter``;
    ``replacing``: an older spelling of the same position, left out. ``None`` on the last
    page (no cursor)."""
    if cursor is None:
        return None
    query = request.query_params.copy()
    query.pop(replacing, None)
    query[parameter] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

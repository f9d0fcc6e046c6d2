"""Conditional requests on a resource whose version is its ETag (``"3"``): ``If-None-Match``
on reads (``304`` while the caller's copy is current) and ``If-Match`` on changes (the
version the caller saw; the context refuses a change on any other with its own 412)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from kernel.errors import ValidationError

#: More significant digits than any version can have (versions count changes from 1).
VERSION_MAX_DIGITS = 18
#: What a well-formed ``If-Match`` with more digits stands for: no resource is at version 0,
#: so the change is refused as stale (412), as for any other version it is not at.
UNREACHABLE_VERSION = 0


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(request: Request, *, of: str = "you read") -> int | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``); ``None`` for
    no header or ``*``; a 400 naming ``If-Match`` for anything else (``of`` says whose ETag
    to send: "the order")."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (value.isascii() and value.isdigit()):
        raise ValidationError({"If-Match": [f'Send the ETag {of}, for example "3".']})
    digits = value.lstrip("0") or "0"
    if len(digits) > VERSION_MAX_DIGITS:  # also keeps int() below its 4300-digit limit
        return UNREACHABLE_VERSION
    return int(digits)


def not_modified(request: Request, version: int) -> Response | None:
    """``304`` when ``If-None-Match`` names this version (or ``*``), compared weakly as RFC
    9110 asks for a GET (``W/"3"`` matches ``"3"``); ``None`` otherwise."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return None
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in tags and etag(version) not in tags:
        return None
    response = Response(status=status.HTTP_304_NOT_MODIFIED)
    response["ETag"] = etag(version)
    return response

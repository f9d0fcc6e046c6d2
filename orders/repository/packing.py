"""Event bodies are stored compressed: DynamoDB charges a write unit per kilobyte, and an
event's JSON (about 1.2 KB) packs to under half of that — one unit instead of two for a feed
item, and a smaller order item on every change (docs/capacity.md)."""

from __future__ import annotations

import zlib
from typing import Any


def packed(text: str) -> dict[str, Any]:
    """An attribute value holding ``text`` compressed (binary)."""
    return {"B": zlib.compress(text.encode(), 6)}


def unpacked(value: dict[str, Any]) -> str:
    """The text of an attribute :func:`packed` wrote, or of a plain string (items written
    before bodies were compressed)."""
    if "B" in value:
        return zlib.decompress(value["B"]).decode()
    return value["S"]

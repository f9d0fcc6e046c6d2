"""What text every context can keep: a Python string may hold what no store or wire format
takes, and the API refuses it at the door rather than fail on every later read."""

from __future__ import annotations

import re
from typing import Any

#: A Python string can hold surrogate code points (JSON's "\ud800" escape makes one); they are
#: not encodable as UTF-8, so DynamoDB, the event contract and every rendering of the order
#: would fail on them later. NUL is refused too: many consumers treat it as the end of text.
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be kept as text (``None`` if it can)."""
    found = _UNSTORABLE_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Must not contain NUL characters."
    return f"Must be valid Unicode text (unpaired surrogate U+{ord(found.group()):04X})."


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "a " + type(value).__name__

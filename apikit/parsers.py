"""The one JSON parser of the API: strict about what it lets through, so that no body can make
a view fail later (5xx) or store text that breaks every later read of it.

- UTF-8 only: a body declared in another charset is a 415; bytes that are not UTF-8, a 400.
- At most :data:`MAX_DEPTH` levels of objects and arrays (checked before parsing: Python's
  parser would otherwise hit its recursion limit on a deep body).
- An object may name each key once (``{"a": 1, "a": 2}`` is a 400).
- Every string and object key must be storable text (no unpaired surrogates, no NUL), with
  the 400 naming where it is: ``metadata.k``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.utils.http import parse_header_parameters
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from kernel.text import text_problem

#: Far more than any document of the contract needs (metadata itself is limited to 10 levels).
MAX_DEPTH = 32
#: Characters that matter for nesting: brackets, and quotes and escapes to skip strings.
_STRUCTURE = re.compile(r'[\[\]{}"\\]')


def declared_charset(media_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower case, if any."""
    if not media_type:
        return None
    _, params = parse_header_parameters(media_type)
    charset = params.get("charset")
    return charset.strip().lower() if charset is not None else None


def nesting_depth(text: str, *, stop_above: int) -> int:
    """How deep objects and arrays nest in JSON ``text`` (strings skipped), counting no further
    than ``stop_above + 1``. Linear in the text; malformed text gives some number, and the
    parser then refuses it anyway."""
    depth = deepest = 0
    in_string = False
    skip_until = -1  # the character after a backslash in a string is escaped
    for match in _STRUCTURE.finditer(text):
        position, char = match.start(), match.group()
        if position <= skip_until:
            continue
        if in_string:
            if char == "\\":
                skip_until = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def text_problems(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, problem) for each string or key that is not storable text. The path is
    in the API's error naming: ``contact.name``, ``metadata.a[0].b``."""
    if isinstance(value, str):
        if (reason := text_problem(value)) is not None:
            yield path or "body", reason
    elif isinstance(value, dict):
        for key, item in value.items():
            if (reason := text_problem(key)) is not None:
                yield path or "body", f"A key: {reason}"
                continue
            yield from text_problems(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from text_problems(item, f"{path}[{index}]")


class DuplicateKey(Exception):
    def __init__(self, key: str):
        self.key = key


def _refusing_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object from its pairs, refusing a key given twice: Python keeps the last one
    silently, another reader may keep the first, so the client's intent is unknowable."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKey(key)
        data[key] = value
    return data


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with the checks above (set as DEFAULT_PARSER_CLASSES)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        charset = declared_charset(media_type)
        if charset not in (None, "utf-8"):
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=f"Send JSON in UTF-8 (charset {charset!r} is not supported).",
            )
        raw = stream.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                f"The body is not valid UTF-8 (at byte {exc.start})."
            ) from None
        if nesting_depth(text, stop_above=MAX_DEPTH) > MAX_DEPTH:
            raise exceptions.ParseError(
                f"The body nests objects and arrays too deep (more than {MAX_DEPTH} levels)."
            )
        try:
            data = json.loads(text, object_pairs_hook=_refusing_duplicates)
        except DuplicateKey as exc:
            raise exceptions.ParseError(
                f"The body names {exc.key!r} more than once in one object; send each key once."
            ) from None
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        problems: dict[str, list[str]] = {}
        for path, reason in text_problems(data):
            problems.setdefault(path, []).append(reason)
        if problems:
            raise exceptions.ValidationError(problems)
        return data

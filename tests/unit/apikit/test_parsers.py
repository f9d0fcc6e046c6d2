"""The API's JSON parser, piece by piece: nesting measured without parsing, charsets, text."""

from __future__ import annotations

import io

import pytest
from rest_framework import exceptions

from apikit.parsers import (
    MAX_DEPTH,
    StrictJSONParser,
    declared_charset,
    nesting_depth,
    text_problems,
)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('{"a": "[[[{{{"}', 1),  # brackets in strings do not count
        ('{"a": "x\\"[[[", "b": "\\\\"}', 1),  # nor after an escaped quote or backslash
        ('["\\\\", ["\\\\\\""]]', 2),
    ],
)
def test_nesting_depth_counts_only_structure(text, depth):
    assert nesting_depth(text, stop_above=100) == depth


def test_nesting_depth_stops_counting_above_the_limit():
    assert nesting_depth("[" * 100_000, stop_above=5) == 6


@pytest.mark.parametrize(
    ("media_type", "charset"),
    [
        ("application/json", None),
        ("application/json; charset=UTF-8", "utf-8"),
        ('application/json; charset="utf-7"', "utf-7"),
        (None, None),
    ],
)
def test_declared_charset(media_type, charset):
    assert declared_charset(media_type) == charset


def test_text_problems_name_the_path():
    data = {"title": "ok", "metadata": {"a": [{"b": "\ud800"}], "c\x00": 1}, "x": "\x00"}
    assert [path for path, _ in text_problems(data)] == ["metadata.a[0].b", "metadata", "x"]


def parse(raw: bytes, media_type: str = "application/json"):
    return StrictJSONParser().parse(io.BytesIO(raw), media_type, {})


def test_the_parser_refuses_what_the_contract_does_not_allow():
    assert parse(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(exceptions.ParseError, match="too deep"):
        parse(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(exceptions.ParseError, match="UTF-8"):
        parse(b'{"a": "\xe9"}')
    with pytest.raises(exceptions.UnsupportedMediaType):
        parse(b"{}", "application/json; charset=iso-8859-1")
    with pytest.raises(exceptions.ValidationError):
        parse(b'{"a": "\\udfff"}')
    with pytest.raises(exceptions.ParseError):
        parse(b'{"a": NaN}')

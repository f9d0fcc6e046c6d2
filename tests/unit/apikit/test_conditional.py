"""Versions as ETags: If-Match names the version a change is for, If-None-Match answers 304
while the caller's copy is current (apikit.conditional)."""

from __future__ import annotations

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apikit.conditional import UNREACHABLE_VERSION, etag, expected_version, not_modified
from kernel.errors import ValidationError


def get(**headers: str) -> Request:
    return Request(APIRequestFactory().get("/v1/things/1", **headers))


@pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), ("*", None)])
def test_if_match_names_a_version(header, version):
    assert expected_version(get(HTTP_IF_MATCH=header)) == version
    assert expected_version(get()) is None


def test_a_malformed_if_match_is_refused_naming_it_and_a_huge_one_is_stale():
    with pytest.raises(ValidationError) as refused:
        expected_version(get(HTTP_IF_MATCH="yesterday"))
    assert list(refused.value.errors) == ["If-Match"]
    assert expected_version(get(HTTP_IF_MATCH="9" * 40)) == UNREACHABLE_VERSION


def test_if_none_match_is_304_while_current():
    assert not_modified(get(), 3) is None
    assert not_modified(get(HTTP_IF_NONE_MATCH='"2"'), 3) is None
    unchanged = not_modified(get(HTTP_IF_NONE_MATCH='W/"3", "4"'), 3)
    assert unchanged.status_code == 304 and unchanged["ETag"] == etag(3) == '"3"'

"""Signed pagination cursors: a client can resume a listing but never forge a cursor."""

from __future__ import annotations

import base64
import json

import pytest

from orders.domain.errors import DomainError, InvalidCursor
from orders.repository.cursor import decode_cursor, encode_cursor

SECRET = b"unit-test-secret"
SCOPE = "status/received"
KEY = {"pk": "STATUS#received", "sk": "2025-03-03T09:00:00Z#order-1", "n": 3}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issued() -> str:
    return encode_cursor(KEY, scope=SCOPE, secret=SECRET)


def test_round_trip_returns_the_key():
    assert decode_cursor(issued(), scope=SCOPE, secret=SECRET) == KEY


def test_cursor_is_url_safe_text():
    cursor = issued()
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert cursor.count(".") == 1


def test_encoding_is_deterministic_and_independent_of_key_order():
    reordered = dict(reversed(list(KEY.items())))
    assert encode_cursor(reordered, scope=SCOPE, secret=SECRET) == issued()


def test_tampered_payload_is_invalid():
    payload_text, signature_text = issued().split(".")
    doc = json.loads(unb64(payload_text))
    doc["k"]["n"] = 4
    forged_payload = b64(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
    with pytest.raises(InvalidCursor):
        decode_cursor(forged_payload + "." + signature_text, scope=SCOPE, secret=SECRET)


def test_payload_moved_to_another_scope_is_invalid():
    # Re-using a genuine signature with a payload naming another listing must not work.
    payload_text, signature_text = issued().split(".")
    doc = json.loads(unb64(payload_text))
    doc["s"] = "status/accepted"
    forged_payload = b64(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
    with pytest.raises(InvalidCursor):
        decode_cursor(forged_payload + "." + signature_text, scope="status/accepted", secret=SECRET)


def test_tampered_signature_is_invalid():
    payload_text, signature_text = issued().split(".")
    signature = bytearray(unb64(signature_text))
    signature[0] ^= 0x01
    with pytest.raises(InvalidCursor):
        decode_cursor(payload_text + "." + b64(bytes(signature)), scope=SCOPE, secret=SECRET)


def test_truncated_signature_is_invalid():
    payload_text, signature_text = issued().split(".")
    with pytest.raises(InvalidCursor):
        decode_cursor(payload_text + "." + signature_text[:-4], scope=SCOPE, secret=SECRET)


def test_missing_signature_is_invalid():
    payload_text, _ = issued().split(".")
    with pytest.raises(InvalidCursor):
        decode_cursor(payload_text + ".", scope=SCOPE, secret=SECRET)


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "not.base64!", "a.b.c", "....", "é.é", "eyJrIjp7fX0", "%%%.%%%"],
)
def test_garbage_is_invalid(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, scope=SCOPE, secret=SECRET)


def test_wrong_scope_is_invalid():
    with pytest.raises(InvalidCursor) as info:
        decode_cursor(issued(), scope="integrator/acme", secret=SECRET)
    assert "different listing" in str(info.value)


def test_cursor_signed_with_another_secret_is_invalid():
    other = encode_cursor(KEY, scope=SCOPE, secret=b"another-deployment")
    with pytest.raises(InvalidCursor):
        decode_cursor(other, scope=SCOPE, secret=SECRET)


def test_invalid_cursor_is_a_domain_error():
    # The API maps domain errors to 4xx responses; a bad cursor must be one of them.
    assert issubclass(InvalidCursor, DomainError)


# -- a listing's scope: its filters -------------------------------------------------------------


def test_a_cursor_issued_before_the_category_and_site_filters_still_continues_its_listing():
    from orders.repository.base import OrderFilter

    # The scope of an unfiltered and a status-filtered listing, as cursors already carry it.
    assert OrderFilter().fingerprint == "|None|None|||None"
    assert OrderFilter(statuses=frozenset({"received"})).fingerprint == "received|None|None|||None"


def test_listings_of_other_categories_or_sites_have_other_scopes():
    from orders.repository.base import OrderFilter

    scopes = {
        OrderFilter().fingerprint,
        OrderFilter(categories=frozenset({"hvac"})).fingerprint,
        OrderFilter(categories=frozenset({"hvac", "plumbing"})).fingerprint,
        OrderFilter(sites=frozenset({"Dock 7, Springfield"})).fingerprint,
        # Sites are free text: commas cannot make two sites look like one.
        OrderFilter(sites=frozenset({"Dock 7", " Springfield"})).fingerprint,
    }
    assert len(scopes) == 5
    long_site = OrderFilter(sites=frozenset({"x" * 300 + str(i) for i in range(20)}))
    assert len(long_site.fingerprint) < 100  # the scope rides in every cursor, kept short

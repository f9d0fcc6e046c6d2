"""Opaque, signed pagination cursors.

A cursor is the storage's resume key, signed so that a client can neither forge one that
reads another partition nor hand us garbage that reaches DynamoDB: any cursor we did not
issue for this very listing is an :class:`InvalidCursor` (a clean 400 at the API).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from orders.domain.errors import InvalidCursor


def encode_cursor(key: dict[str, Any], *, scope: str, secret: bytes) -> str:
    payload = json.dumps({"k": key, "s": scope}, separators=(",", ":"), sort_keys=True).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return _b64(payload) + "." + _b64(signature)


def decode_cursor(cursor: str, *, scope: str, secret: bytes) -> dict[str, Any]:
    try:
        payload_text, signature_text = cursor.split(".", 1)
        payload = _unb64(payload_text)
        signature = _unb64(signature_text)
    except (ValueError, AttributeError):
        raise InvalidCursor("The cursor is malformed.") from None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise InvalidCursor("The cursor was not issued by this service.")
    doc = json.loads(payload)
    if doc.get("s") != scope:
        raise InvalidCursor("The cursor belongs to a different listing.")
    return doc["k"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

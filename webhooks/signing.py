"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

``webhook-signature`` is ``v1,<base64 HMAC-SHA256>`` over ``<id>.<timestamp>.<body>`` with the
endpoint's secret (``whsec_<base64 key>``). ``webhook-id`` is the event id, which receivers use
to de-duplicate; ``webhook-timestamp`` lets them refuse replays of old messages.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
#: How far a receiver should accept the timestamp from its own clock.
TOLERANCE_SECONDS = 5 * 60


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def verify(secret: str, received: dict[str, str], body: str, *, now: int) -> bool:
    """What a receiver does (docs/webhooks.md shows the same steps to integrators)."""
    message_id = received.get("webhook-id", "")
    try:
        timestamp = int(received.get("webhook-timestamp", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, message_id, timestamp, body).split(",", 1)[1]
    offered = [
        s.split(",", 1)[1] for s in received.get("webhook-signature", "").split() if "," in s
    ]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)

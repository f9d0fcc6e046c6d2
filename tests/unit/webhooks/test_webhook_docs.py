"""The verification snippet in docs/webhooks.md works on what the portal sends."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from webhooks import signing

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"


@pytest.fixture(scope="module")
def verify_webhook():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    [snippet] = [b for b in blocks if "def verify_webhook" in b]
    namespace: dict = {}
    exec(compile(snippet, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_webhook"]


def sent(secret: str, body: str = '{"id": "e1"}', *, at: int | None = None) -> dict[str, str]:
    return signing.headers(secret, "e1", at if at is not None else int(time.time()), body)


def test_the_documented_snippet_accepts_what_the_portal_signs(verify_webhook):
    secret = signing.new_secret()
    headers = {name.title(): value for name, value in sent(secret).items()}  # any header case
    assert verify_webhook(secret, headers, '{"id": "e1"}')


@pytest.mark.parametrize(
    "tamper",
    [
        lambda secret, h, b: (signing.new_secret(), h, b),  # another endpoint's secret
        lambda secret, h, b: (secret, h, b + " "),  # body changed
        lambda secret, h, b: (secret, {**h, "webhook-id": "e2"}, b),  # id changed
        lambda secret, h, b: (secret, sent(secret, b, at=int(time.time()) - 3600), b),  # replay
        lambda secret, h, b: (secret, {**h, "webhook-timestamp": "soon"}, b),
        lambda secret, h, b: (secret, {**h, "webhook-signature": ""}, b),
    ],
)
def test_the_documented_snippet_refuses_anything_else(verify_webhook, tamper):
    secret = signing.new_secret()
    body = '{"id": "e1"}'
    assert not verify_webhook(*tamper(secret, sent(secret, body), body))

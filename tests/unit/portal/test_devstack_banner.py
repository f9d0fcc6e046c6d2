"""`make run`'s ready banner: its example is one a client can paste twice safely, and it does
not collide with the README's walkthrough."""

from __future__ import annotations

import json
import re
from pathlib import Path

from portal.devstack import banner

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_banners_example_sends_an_idempotency_key_and_a_reference_of_its_own():
    text = banner(8000, "http://127.0.0.1:4566", "KEY", ["admin", "secret"])

    assert re.search(r"-H 'Idempotency-Key: [^']+'", text)
    body = json.loads(re.search(r"-d '(\{.*\})'", text).group(1))
    walkthrough = set(re.findall(r'"external_reference": "([^"]+)"', README.read_text()))
    assert body["external_reference"] not in walkthrough
    assert walkthrough, "the README's walkthrough names its reference"

"""An integrator is told about every status change of its order: signed POSTs from the
real workers and dispatcher, one per event."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.integration.factories import EXAMPLE
from tests.support import wait_for
from tests.webhook_receiver import running_receiver
from webhooks import signing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def test_the_integrator_receives_signed_webhooks_for_each_status(portal):
    with running_receiver() as receiver:
        created = requests.post(
            f"{portal.base_url}/v1/webhooks",
            headers=portal.auth,
            timeout=10,
            json={"url": receiver.url, "statuses": ["received", "accepted", "scheduled"]},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        try:
            order = portal.post_order({**EXAMPLE, "external_reference": "HOOK-1"})
            portal.wait_for_status(order["id"], "scheduled")

            def mine() -> list:
                return [
                    r for r in receiver.received if json.loads(r.body)["subject"] == order["id"]
                ]

            got = wait_for(lambda: len(mine()) >= 3 and mine(), timeout=20, what="3 webhooks")
            statuses = sorted(json.loads(r.body)["data"]["order"]["status"] for r in got)
            assert statuses == ["accepted", "received", "scheduled"]
            now = int(time.time())
            assert all(signing.verify(secret, r.headers, r.body, now=now) for r in got)
            assert len({r.headers["webhook-id"] for r in got}) == 3
        finally:
            requests.delete(
                f"{portal.base_url}/v1/webhooks/{created.json()['id']}",
                headers=portal.auth,
                timeout=10,
            )

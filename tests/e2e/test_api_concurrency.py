"""Racing requests against the real web server: one order per idempotency key, one winner
per version."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.factories import EXAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
RACERS = 8


def race(call) -> list[requests.Response]:
    start = threading.Barrier(RACERS)

    def run(_: int) -> requests.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(run, range(RACERS)))


def test_concurrent_identical_posts_with_one_key_create_one_order(portal):
    body = {**EXAMPLE, "external_reference": "RACE-1"}
    headers = {**portal.auth, "Idempotency-Key": "race-key-1"}

    responses = race(
        lambda: requests.post(
            f"{portal.base_url}/v1/orders", json=body, headers=headers, timeout=15
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {201, 409}, codes  # 409: "still in progress, retry"
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert (
        sum(
            1
            for r in responses
            if r.status_code == 201 and not r.headers.get("Idempotent-Replayed")
        )
        == 1
    )
    listed = requests.get(
        f"{portal.base_url}/v1/orders",
        params={"external_reference": "RACE-1"},
        headers=portal.auth,
        timeout=10,
    ).json()["results"]
    assert [o["id"] for o in listed] == list(created)


def test_concurrent_transitions_on_one_version_have_one_winner(portal):
    order = portal.post_order({**EXAMPLE, "external_reference": "RACE-2"})
    scheduled = portal.wait_for_status(order["id"], "scheduled")
    url = f"{portal.base_url}/v1/orders/{order['id']}/transitions"
    headers = {**portal.auth, "If-Match": f'"{scheduled["version"]}"'}

    responses = race(
        lambda: requests.post(url, json={"to": "in_progress"}, headers=headers, timeout=15)
    )

    codes = [r.status_code for r in responses]
    assert codes.count(200) == 1, codes
    assert set(codes) <= {200, 409, 412}, codes
    final = portal.get_order(order["id"])
    assert final["status"] == "in_progress"
    assert final["version"] == scheduled["version"] + 1
    assert [h["to"] for h in final["history"]].count("in_progress") == 1

"""The local receiver of the README walkthrough verifies what the portal signs."""

from __future__ import annotations

import os
import sys
import time

import pytest
import urllib3

from tests.support import Processes, free_port, wait_for, wait_for_port
from webhooks import signing

BODY = '{"type": "order.created", "subject": "o-1", "data": {"order": {"status": "received"}}}'


@pytest.fixture
def listening():
    port, secret, processes = free_port(), signing.new_secret(), Processes()
    process = processes.start(
        "listen-webhooks",
        [sys.executable, "manage.py", "listen_webhooks", "--port", str(port), "--secret", secret],
        {**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_for_port(port, timeout=20, process=process)
        yield port, secret, lambda: processes.log("listen-webhooks")
    finally:
        processes.stop_all()


def test_the_receiver_prints_verified_deliveries_and_refuses_bad_signatures(listening):
    port, secret, output = listening
    http = urllib3.PoolManager()
    url = f"http://127.0.0.1:{port}/hooks"
    good = http.request(
        "POST", url, body=BODY, headers=signing.headers(secret, "e-1", int(time.time()), BODY)
    )
    bad = http.request(
        "POST", url, body=BODY, headers=signing.headers(signing.new_secret(), "e-2", 0, BODY)
    )
    assert (good.status, bad.status) == (204, 401)
    wait_for(lambda: "BAD SIGNATURE" in output(), timeout=10)
    assert "verified  order.created  order o-1 is received  (webhook-id e-1)" in output()

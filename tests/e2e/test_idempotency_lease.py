"""A web process killed in the middle of a POST with an Idempotency-Key (OOM, timeout, a
deploy) must not leave the key answering 409 for a day: once the claim's short lease has run
out, the client's retry with the same key and body creates the order, exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.integration.factories import EXAMPLE
from tests.support import (
    ROOT,
    Processes,
    SlowDynamoProxy,
    free_port,
    wait_for,
    wait_for_port,
    web_env,
)

pytestmark = [pytest.mark.e2e]
LEASE_SECONDS = 2


def order_write(target: str, body: bytes) -> bool:
    """The create's PutItem of the order item (not the idempotency claim before it)."""
    return target.endswith(".PutItem") and b'"ORDER#' in body


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.fixture
def web(aws, tmp_path) -> Iterator[tuple]:
    """``start()`` runs a gunicorn web process whose DynamoDB calls go through a proxy that
    can hold them; yields (start, proxy, key). Django's tables are a database of the test's
    own (the web process only authenticates there), so no test transaction is involved."""
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
    }
    manage(base_env, "migrate", "--noinput")
    key = manage(base_env, "create_integrator", "Lease").strip().splitlines()[-1]
    proxy = SlowDynamoProxy(aws.endpoint, aws.dynamodb_endpoint)
    processes = Processes()

    def start() -> tuple[subprocess.Popen, str]:
        port = free_port()
        env = web_env(
            aws,
            database_url=base_env["DATABASE_URL"],
            port=port,
            AWS_ENDPOINT_URL=proxy.endpoint,
            AWS_ENDPOINT_URL_DYNAMODB=proxy.endpoint,
            IDEMPOTENCY_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        process = processes.start(
            f"lease-web-{uuid.uuid4().hex[:6]}", [sys.executable, "-m", "portal.role", "web"], env
        )
        wait_for_port(port, timeout=60, process=process)
        return process, f"http://127.0.0.1:{port}"

    try:
        yield start, proxy, key
    finally:
        processes.stop_all()
        proxy.close()


def in_background(call: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        with contextlib.suppress(requests.RequestException):  # the server dies under it
            call()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_retry_after_the_web_process_was_killed_mid_request_creates_the_order_once(web):
    start, proxy, api_key = web
    body = {**EXAMPLE, "external_reference": f"LEASE-{uuid.uuid4().hex[:8]}"}
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"k-{uuid.uuid4().hex}"}

    def post(base_url: str) -> requests.Response:
        return requests.post(f"{base_url}/v1/orders", json=body, headers=headers, timeout=30)

    first, base_url = start()
    proxy.hold(only=order_write)
    caller = in_background(lambda: post(base_url))
    wait_for(lambda: proxy.held > 0, timeout=20, what="the create to wait on its order write")

    os.killpg(first.pid, signal.SIGKILL)  # the master and the worker with the request in it
    first.wait(timeout=10)
    proxy.drop()  # the killed process's write never reaches DynamoDB
    caller.join(timeout=30)

    _, base_url = start()
    answers: list[requests.Response] = []

    def retried() -> requests.Response | None:
        answers.append(post(base_url))
        return answers[-1] if answers[-1].status_code != 409 else None

    created = wait_for(retried, timeout=LEASE_SECONDS + 15, interval=0.5, what="201")

    assert created.status_code == 201, created.text
    assert "Idempotent-Replayed" not in created.headers
    assert all(r.headers.get("Retry-After") for r in answers if r.status_code == 409)
    again = post(base_url)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == created.json()["id"]
    listed = requests.get(
        f"{base_url}/v1/orders",
        params={"external_reference": body["external_reference"]},
        headers={"Authorization": headers["Authorization"]},
        timeout=10,
    ).json()["results"]
    assert [o["id"] for o in listed] == [created.json()["id"]]


def test_a_slow_request_keeps_its_key_past_the_lease_and_a_retry_never_runs_it_twice(web):
    """Alive but slow (a slow DynamoDB, a long GC pause): gunicorn's gthread workers do not
    stop a request at WEB_TIMEOUT, so the request renews its lease while it runs, and retries
    well past the lease still get 409 instead of taking the claim over and creating a second
    order (there is no external_reference here to catch a duplicate)."""
    start, proxy, api_key = web
    body = {k: v for k, v in EXAMPLE.items() if k != "external_reference"}
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": f"k-{uuid.uuid4().hex}"}

    def post(base_url: str) -> requests.Response:
        return requests.post(f"{base_url}/v1/orders", json=body, headers=headers, timeout=30)

    _, base_url = start()
    before = requests.get(f"{base_url}/v1/orders", headers=headers, timeout=10).json()["results"]
    proxy.hold(only=order_write)
    first: list[requests.Response] = []
    caller = in_background(lambda: first.append(post(base_url)))
    wait_for(lambda: proxy.held > 0, timeout=20, what="the create to wait on its order write")
    held_since = time.monotonic()

    answers: list[int | str] = []

    def three_leases_of_retries() -> bool:
        try:
            answers.append(
                requests.post(
                    f"{base_url}/v1/orders", json=body, headers=headers, timeout=5
                ).status_code
            )
        except requests.Timeout:
            answers.append("ran the create again")  # took the claim over; blocked like the first
        return time.monotonic() - held_since > 3 * LEASE_SECONDS

    wait_for(three_leases_of_retries, timeout=3 * LEASE_SECONDS + 15, interval=0.5)
    assert set(answers) == {409}, answers

    proxy.release()
    caller.join(timeout=30)
    assert first and first[0].status_code == 201, first
    again = post(base_url)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first[0].json()["id"]
    after = requests.get(f"{base_url}/v1/orders", headers=headers, timeout=10).json()["results"]
    assert len(after) == len(before) + 1

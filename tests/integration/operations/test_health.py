"""Probes: /healthz answers while the process lives; /readyz and check_ready tell whether the
database, DynamoDB, SNS (and a worker's queue) are reachable, quickly and without details."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command

from portal import container
from tests.support import free_port


@pytest.fixture(autouse=True)
def fresh_probe_clients():
    container.reset()
    yield
    container.reset()


def test_healthz_needs_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ready_when_everything_answers(aws, client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert {name for name, r in response.json()["checks"].items() if r["ok"]} == {
        "database",
        "dynamodb",
        "sns",
    }


def test_readyz_says_what_is_unreachable_quickly_and_without_details(aws, client, db, settings):
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.AWS_ENDPOINT_URL = settings.AWS_ENDPOINT_URL_DYNAMODB = nowhere
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["dynamodb"] == {
        "ok": False,
        "error": checks["dynamodb"]["error"],
        "ms": checks["dynamodb"]["ms"],
    }
    assert "127.0.0.1" not in response.content.decode()


def test_a_worker_checks_its_queue(aws, db):
    out = io.StringIO()
    call_command("check_ready", "--status", "accepted", stdout=out)
    assert '"ready": true' in out.getvalue() and '"queue"' in out.getvalue()


def test_probes_answer_whatever_host_the_orchestrator_uses(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200

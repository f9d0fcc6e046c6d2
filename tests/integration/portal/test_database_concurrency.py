"""Django's database under concurrent writers, as separate processes with the portal's own
settings: the webhook dispatcher leasing deliveries while workers insert new ones, and failed
logins counted from several web processes, never fail with SQLite's "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from integrators.models import Integrator
from operations.models import LoginFailure
from tests.e2e.conftest import database_url
from tests.support import ROOT
from webhooks.models import WebhookDelivery, WebhookEndpoint

ROUNDS = 60


def run_contenders(jobs: list[list[str]], tmp_path: Path) -> list[subprocess.CompletedProcess]:
    """Start one process per job on the test database; let them go at once; wait for all."""
    go = tmp_path / "go"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "portal.settings"),
        "DATABASE_URL": database_url(connection.settings_dict),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.database_contender", job[0], str(go), *job[1:]],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    try:
        go.touch()
        results = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def errors(results: list[subprocess.CompletedProcess]) -> list[str]:
    return [result.stderr.strip() for result in results if result.returncode != 0]


@pytest.mark.django_db(transaction=True)
def test_dispatchers_lease_while_workers_insert_deliveries_without_locking_errors(tmp_path):
    integrator = Integrator.objects.create(slug="acme-locks", name="Acme")
    endpoint = WebhookEndpoint.objects.create(
        integrator=integrator, url="https://hooks.example/", secret="whsec_test"
    )
    inserters = [["insert", str(ROUNDS), f"{endpoint.pk}:{n}"] for n in range(2)]
    results = run_contenders([["lease", str(ROUNDS)]] * 2 + inserters, tmp_path)
    assert errors(results) == []
    assert WebhookDelivery.objects.count() == 2 * ROUNDS
    leased = [line for result in results[:2] for line in result.stdout.split()]
    assert len(leased) == len(set(leased))  # and no delivery was leased twice


@pytest.mark.django_db(transaction=True)
def test_failed_logins_from_several_processes_are_all_counted(tmp_path, settings):
    from portal import login_throttle

    key = login_throttle.throttle_key("clerk", "203.0.113.5")
    results = run_contenders([["fail-login", "10", key]] * 4, tmp_path)
    assert errors(results) == []
    assert LoginFailure.objects.get(key=key).failures == 40

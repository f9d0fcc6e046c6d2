"""Settings beyond what AWS (or common sense) allows stop every process at start-up, with a
message naming the variable, its value and the allowed range."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.support import ROOT

SETTINGS = str(ROOT / "portal" / "settings.py")


def manage_check(**environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_py_refuses_to_start_with_a_batch_dynamodb_streams_cannot_serve():
    result = manage_check(EVENT_RELAY_BATCH="1001")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "EVENT_RELAY_BATCH=1001 is out of range: allowed 1 .. 1000" in result.stderr


def test_manage_py_starts_with_the_defaults():
    result = manage_check()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("EVENT_RELAY_BATCH", "0", "1 .. 1000"),
        ("EVENT_RELAY_BATCH", "1001", "1 .. 1000"),
        ("SQS_WAIT_TIME_SECONDS", "21", "0 .. 20"),
        ("SQS_WAIT_TIME_SECONDS", "-1", "0 .. 20"),
        ("ORDERS_VISIBILITY_TIMEOUT", "43201", "0 .. 43200"),
        ("ORDERS_VISIBILITY_TIMEOUT", "-1", "0 .. 43200"),
        ("ORDERS_DLQ_MAX_RECEIVE_COUNT", "0", "1 .. 1000"),
        ("ORDERS_DLQ_MAX_RECEIVE_COUNT", "1001", "1 .. 1000"),
        ("ORDERS_RETRY_BACKOFF", "43201", "0 .. 43200"),
        ("EVENT_RELAY_PUBLISH_CONCURRENCY", "0", "at least 1"),
        ("EVENT_RELAY_GROUPS", "0", "at least 1"),
        ("EVENT_RELAY_IDLE_SECONDS", "-0.5", "at least 0"),
        ("WORKER_CONCURRENCY", "0", "at least 1"),
        ("WORKER_PREFETCH_MULTIPLIER", "-1", "at least 0"),
        ("WEBHOOK_CONCURRENCY", "0", "at least 1"),
        ("WEBHOOK_TIMEOUT_SECONDS", "0.0", "at least 0.001"),
        ("ADMIN_LOGIN_MAX_FAILURES", "0", "at least 1"),
        ("ADMIN_LOGIN_LOCKOUT_SECONDS", "0", "at least 1"),
        ("API_MAX_BODY_BYTES", "0", "at least 1"),
        ("METRICS_PORT", "65536", "0 .. 65535"),
        ("TRUSTED_PROXY_COUNT", "-1", "at least 0"),
        ("SECURE_HSTS_SECONDS", "-1", "at least 0"),
    ],
)
def test_out_of_range_settings_are_refused(monkeypatch, name, value, allowed):
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        runpy.run_path(SETTINGS)
    assert f"{name}={value} is out of range: allowed {allowed}" in str(refused.value)


def test_the_relay_group_must_be_one_of_the_groups(monkeypatch):
    monkeypatch.setenv("EVENT_RELAY_GROUPS", "3")
    monkeypatch.setenv("EVENT_RELAY_GROUP", "3")
    with pytest.raises(ImproperlyConfigured, match=r"EVENT_RELAY_GROUP=3 .*allowed 0 \.\. 2"):
        runpy.run_path(SETTINGS)
    monkeypatch.setenv("EVENT_RELAY_GROUP", "2")
    assert runpy.run_path(SETTINGS)["EVENT_RELAY_GROUP"] == 2


def test_a_negative_webhook_retry_delay_is_refused(monkeypatch):
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "5,-300")
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_RETRY_SCHEDULE"):
        runpy.run_path(SETTINGS)


def test_a_value_that_is_not_a_number_names_its_variable(monkeypatch):
    monkeypatch.setenv("WORKER_CONCURRENCY", "four")
    with pytest.raises(ImproperlyConfigured, match="WORKER_CONCURRENCY='four' is not"):
        runpy.run_path(SETTINGS)


def test_the_limits_hold_at_their_edges(monkeypatch):
    for name, value in {
        "EVENT_RELAY_BATCH": "1000",
        "SQS_WAIT_TIME_SECONDS": "20",
        "ORDERS_VISIBILITY_TIMEOUT": "43200",
        "ORDERS_DLQ_MAX_RECEIVE_COUNT": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    loaded = runpy.run_path(SETTINGS)
    assert (loaded["EVENT_RELAY_BATCH"], loaded["SQS_WAIT_TIME_SECONDS"]) == (1000, 20)


def test_hsts_comes_from_the_environment_and_is_off_by_default(monkeypatch):
    assert runpy.run_path(SETTINGS)["SECURE_HSTS_SECONDS"] == 0
    monkeypatch.setenv("SECURE_HSTS_SECONDS", "31536000")
    monkeypatch.setenv("SECURE_HSTS_INCLUDE_SUBDOMAINS", "true")
    monkeypatch.setenv("SECURE_HSTS_PRELOAD", "true")
    loaded = runpy.run_path(SETTINGS)
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and loaded["SECURE_HSTS_PRELOAD"]

"""The image's entry point maps each role to the command the orchestrator expects."""

from __future__ import annotations

import sys

import pytest

from portal.role import command

MANAGE = [sys.executable, "-m", "django"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["worker", "in_progress"], [*MANAGE, "runworker", "in_progress"]),
        (["relay"], [*MANAGE, "relay_events"]),
        (["webhooks"], [*MANAGE, "deliver_webhooks"]),
        (["scheduler"], [*MANAGE, "run_scheduler"]),
        (["scheduler", "--once"], [*MANAGE, "run_scheduler", "--once"]),
        (["migrate"], [*MANAGE, "migrate", "--noinput"]),
        (["provision"], [*MANAGE, "provision"]),
        (["ready"], [*MANAGE, "check_ready"]),
        (["ready", "accepted"], [*MANAGE, "check_ready", "--status", "accepted"]),
        (["manage", "createsuperuser"], [*MANAGE, "createsuperuser"]),
    ],
)
def test_each_role_runs_its_command(argv, expected):
    assert command(argv) == expected


def test_web_runs_gunicorn_with_the_portal_config():
    assert command(["web"])[1:] == [
        "-m",
        "gunicorn",
        "portal.wsgi",
        "--config",
        "python:portal.gunicorn_conf",
    ]


@pytest.mark.parametrize("argv", [[], ["shell"], ["worker"]])
def test_an_unknown_role_or_missing_status_says_how_to_call_it(argv):
    with pytest.raises(SystemExit, match="usage"):
        command(argv)

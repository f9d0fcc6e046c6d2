"""The container image's entry point: ``python -m portal.role <role> [args]``.

One image runs every part of the system; the orchestrator picks the part with the arguments:

=====================  ==============================================================
``web``                gunicorn serving the API and the admin on ``PORT`` (8000)
``worker <status>``    the Celery worker for one status queue
``relay``              the event relay (exactly one per table)
``webhooks``           the webhook dispatcher
``scheduler``          the maintenance scheduler: orders from preventive-maintenance plans
``migrate``            Django's migrations (a Job / one-off task before each release)
``provision``          the AWS resources, for setups without the CloudFormation stack
``ready [<status>]``   readiness for the non-web roles (exec probe): exit 0 or 1
``manage <args>``      any other ``manage.py`` command
=====================  ==============================================================

Each role replaces this process (``exec``), so the orchestrator's signals reach gunicorn or
Celery directly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

ROLES = (
    "web",
    "worker",
    "relay",
    "webhooks",
    "scheduler",
    "migrate",
    "provision",
    "ready",
    "manage",
)


def command(argv: Sequence[str]) -> list[str]:
    """The command line a role runs (tested without running it)."""
    if not argv or argv[0] not in ROLES:
        raise SystemExit(f"usage: python -m portal.role {{{','.join(ROLES)}}} [args]")
    role, args = argv[0], list(argv[1:])
    python = sys.executable
    manage = [python, "-m", "django"]
    if role == "web":
        return [python, "-m", "gunicorn", "portal.wsgi", "--config", "python:portal.gunicorn_conf"]
    if role == "worker":
        if len(args) < 1:
            raise SystemExit("usage: python -m portal.role worker <status> [celery args]")
        return [*manage, "runworker", *args]
    if role == "relay":
        return [*manage, "relay_events", *args]
    if role == "webhooks":
        return [*manage, "deliver_webhooks", *args]
    if role == "scheduler":
        return [*manage, "run_scheduler", *args]
    if role == "migrate":
        return [*manage, "migrate", "--noinput", *args]
    if role == "provision":
        return [*manage, "provision", *args]
    if role == "ready":
        return [*manage, "check_ready", *(["--status", args[0]] if args else [])]
    return [*manage, *args]


def main(argv: Sequence[str] | None = None) -> None:
    argv = command(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.stdout.flush()
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()

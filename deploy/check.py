"""Validate every deployment artifact offline: ``python -m deploy.check`` (``make check-deploy``).

Each part raises :class:`deploy.tools.ValidationFailed` with the validator's output; this
runs them all and reports every failure, not just the first.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from deploy import tools


def _drift() -> str:
    from deploy.files import drifted
    from deploy.render import render_all
    from deploy.workflow import status_queues

    stale = drifted(render_all(status_queues()))
    if stale:
        raise tools.ValidationFailed(
            "out of date with the workflow table (run `make render-deploy`): " + ", ".join(stale)
        )
    return "generated files match the workflow table"


def steps() -> list[tuple[str, Callable[[], str]]]:
    from deploy.aws.check import validate as validate_aws
    from deploy.docker_check import validate as validate_docker
    from deploy.helm_check import validate as validate_helm

    return [
        ("generated files", _drift),
        ("container image", validate_docker),
        ("helm chart", validate_helm),
        ("aws templates", validate_aws),
    ]


def main() -> int:
    absent = tools.missing()
    if absent:
        print("missing validators (run `make deploy-tools`):", *absent, sep="\n  ", file=sys.stderr)
        return 2
    failures = 0
    for name, step in steps():
        started = time.monotonic()
        try:
            summary = step()
        except tools.ValidationFailed as exc:
            failures += 1
            print(f"FAIL {name}:\n{exc}", file=sys.stderr)
        else:
            print(f"ok   {name} ({time.monotonic() - started:.1f} s): {summary}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

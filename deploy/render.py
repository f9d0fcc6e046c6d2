"""Regenerate every status-shaped deployment file from the workflow table.

``python -m deploy.render`` writes them; ``python -m deploy.render --check`` fails, listing
the files, when a checked-in file differs from what the workflow table implies (CI runs it).
"""

from __future__ import annotations

import argparse
import sys

from deploy.aws.render import render_files as render_aws
from deploy.files import drifted, write
from deploy.helm_values import render_files as render_helm
from deploy.workflow import StatusQueue, status_queues


def render_all(queues: list[StatusQueue]) -> dict[str, str]:
    """Every generated file: path relative to the repository root -> content."""
    files: dict[str, str] = {}
    for renderer in (render_helm, render_aws):
        files.update(renderer(queues))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if any file is out of date")
    args = parser.parse_args(argv)
    files = render_all(status_queues())
    if args.check:
        stale = drifted(files)
        for relative in stale:
            print(f"out of date with the workflow table: {relative}", file=sys.stderr)
        if stale:
            print("run `make render-deploy` and commit the result", file=sys.stderr)
        return 1 if stale else 0
    for relative in write(files):
        print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

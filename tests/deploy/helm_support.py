"""What the Helm chart's test modules share: the release's names, the chart's defaults and a
``render`` that runs the real ``helm`` (its fixtures are in ``conftest.py``)."""

from __future__ import annotations

from pathlib import Path

import yaml

from deploy import helm_check as hc

FULLNAME = f"{hc.RELEASE}-work-order-portal"
DEFAULT_VALUES = yaml.safe_load((hc.CHART / "values.yaml").read_text())


def render(*set_values: str, chart: Path = hc.CHART, ci: bool = False) -> list[hc.Manifest]:
    """The chart with ``set_values`` on the defaults (with an account: the placeholder one is
    refused) or on the CI values."""
    values = [hc.CI_VALUES] if ci else []
    account = [] if ci else [hc.EXAMPLE_ACCOUNT]
    return hc.objects(
        hc.render(chart=chart, values=values, set_values=set_values, set_strings=account)
    )


def only(found: dict[str, list[hc.Manifest]], status: str) -> hc.Manifest:
    """The one object of ``status``: a second or a missing one fails the test."""
    assert len(found.get(status, [])) == 1, f"expected exactly one object for {status}"
    return found[status][0]

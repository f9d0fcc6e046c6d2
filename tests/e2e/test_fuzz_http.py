"""The API keeps its OpenAPI contract over real HTTP (schemathesis, every check, every phase).

A gunicorn web process serves the API against its own emulator stack; ``schemathesis run``
loads the contract from that server's ``/v1/schema`` and sends it generated requests, valid
and invalid, with a real API key: the schema's examples, the coverage phase's boundary and
invalid values, fuzzed requests, and stateful scenarios that follow the links between
operations (create an order, read it, move it; register a webhook endpoint, change it,
delete it; create a site, read it, change it, archive it). ``--checks all``: no 5xx,
documented status codes, content types, headers and bodies, valid requests accepted and
invalid ones refused, created resources found, deleted ones gone, no answer without the key.
Generation is deterministic, so CI repeats a run.
``fuzz_hooks.py`` steers the few values no schema can predict; ``schemathesis.toml`` holds
the settings. A failure's message is schemathesis' report, each with a curl to reproduce.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import unique_prefix
from tests.support import AwsStack, Processes, free_port, services_on, wait_for_port, web_env

from .conftest import database_url

# django_db makes pytest-django create the test database, which the web process shares.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

HERE = Path(__file__).resolve().parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = HERE / "schemathesis.toml"
HOOKS = HERE / "fuzz_hooks.py"
#: The whole run; it takes under a minute on two cores.
RUN_TIMEOUT = 300


@dataclass
class ContractServer:
    base_url: str
    key: str
    order_ids: list[str]
    site_ids: list[str]


def seed_orders(integrator: str) -> list[str]:
    """Orders in several statuses, so that generated moves also meet orders they may move."""
    from orders.domain.model import Actor
    from orders.domain.rules import OrderInput
    from portal.container import order_services

    service = order_services()
    worker = Actor.system("worker:fuzz")
    paths = [(), (), ("accepted",), ("accepted", "scheduled"), ("accepted", "scheduled")]
    ids = []
    for i, path in enumerate(paths):
        order = service.intake.create_order(
            data=OrderInput(
                title=f"Fuzz {i}", category="general", site="Depot 1", external_reference=f"F-{i}"
            ),
            integrator=integrator,
            actor=Actor.integrator(integrator),
        )
        for to in path:
            team = "fuzz-crew" if to == "scheduled" else None
            order = service.intake.transition_order(
                order_id=order.id, to=to, actor=worker, team=team
            )
        ids.append(order.id)
    return ids


def seed_sites(integrator: str) -> list[str]:
    """A region with a store under it, and an archived store: the sites generated requests
    name (the region's code is the one the schema's example hangs its store under)."""
    from facilities.selectors import integrator_by_slug
    from facilities.services import NothingUsesSites, archive_site, create_site

    owner = integrator_by_slug(integrator)
    region = create_site(
        owner, {"code": "REGION-NE", "name": "Northeast", "kind": "region", "time_zone": "UTC"}
    )
    stores = [
        create_site(
            owner,
            {
                "code": code,
                "name": code,
                "kind": "site",
                "parent": str(region.pk),
                "time_zone": "UTC",
            },
        )
        for code in ("FUZZ-STORE-1", "FUZZ-STORE-2")
    ]
    archive_site(stores[1], usage=NothingUsesSites())
    return [str(region.pk), *(str(store.pk) for store in stores)]


@pytest.fixture(scope="module")
def contract_server(emulator, django_db_setup, django_db_blocker) -> Iterator[ContractServer]:
    """The web process alone (no workers, relay or webhook dispatcher: the contract is the
    API's), with an integrator, its key and a few orders, on a stack of its own."""
    from django.db import connection

    from integrators.services import create_integrator, issue_key

    with django_db_blocker.unblock():
        integrator, _ = create_integrator("Contract", slug=f"fuzz-{uuid.uuid4().hex[:6]}")
        _, key = issue_key(integrator, label="fuzz")
        db_url = database_url(connection.settings_dict)
    stack = AwsStack.provision(emulator, unique_prefix("fuzz"))
    # The moves read the teams' working hours from Django's tables.
    with services_on(stack), django_db_blocker.unblock():
        order_ids = seed_orders(integrator.slug)
        site_ids = seed_sites(integrator.slug)
    port = free_port()
    env = web_env(
        stack,
        database_url=db_url,
        port=port,
        # The fuzzer is not what the throttle is about.
        API_RATE_LIMIT="1000000/minute",
        # Generated webhook URLs name random hosts: checked for form only, with no DNS lookup
        # of them. Nothing is ever sent to them (no dispatcher runs here).
        WEBHOOK_ALLOW_PRIVATE_URLS="true",
    )
    processes = Processes()
    try:
        web = processes.start("fuzz-web", [sys.executable, "-m", "portal.role", "web"], env)
        wait_for_port(port, timeout=60, process=web)
        yield ContractServer(f"http://127.0.0.1:{port}", key, order_ids, site_ids)
    finally:
        processes.stop_all()


def test_the_api_keeps_its_contract_over_http(contract_server, tmp_path):
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{contract_server.base_url}/v1/schema",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--header",
        f"Authorization: Bearer {contract_server.key}",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "FUZZ_ORDER_IDS": ",".join(contract_server.order_ids),
        "FUZZ_SITE_IDS": ",".join(contract_server.site_ids),
        "FUZZ_REGION_ID": contract_server.site_ids[0],
    }
    # Its own directory: nothing it writes (Hypothesis' caches) lands in the work tree.
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert result.returncode == 0, report(result)


def report(result: subprocess.CompletedProcess) -> str:
    """schemathesis' failures and summary, without its progress lines."""
    output = result.stdout + result.stderr
    found = output.find("=== FAILURES")
    return output[output.rfind("\n", 0, found) + 1 :] if found >= 0 else output

"""The API keeps its OpenAPI contract over real HTTP (schemathesis, every check, every phase).

A gunicorn web process serves the API against its own emulator stack; ``schemathesis run``
loads the contract from that server's ``/v1/schema`` and sends it generated requests, valid
and invalid, with a real API key: the schema's examples, the coverage phase's boundary and
invalid values, fuzzed requests, and stateful scenarios that follow the links between
operations (create an order, read it, move it; register a webhook endpoint, change it,
delete it; create a site, read it, change it, archive it; create a maintenance plan, read it,
change it, pause it, skip one of its occurrences). ``--checks all``: no 5xx,
documented status codes, content types, headers and bodies, valid requests accepted and
invalid ones refused, created resources found, deleted ones gone, no answer without the key.
Generation is deterministic, so CI repeats a run.
``fuzz_hooks.py`` steers the few values no schema can predict; ``schemathesis.toml`` holds
the settings. A failure's message is schemathesis' report, each with a curl to reproduce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unique_prefix
from tests.support import AwsStack, Processes, free_port, services_on, wait_for_port, web_env

from .conftest import database_url

# django_db makes pytest-django create the test database, which the web process shares.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = HERE / "schemathesis.toml"
HOOKS = HERE / "fuzz_hooks.py"
#: The whole run: about three minutes on two idle cores (about five when they are shared).
RUN_TIMEOUT = 600


@dataclass
class ContractServer:
    base_url: str
    key: str
    order_ids: list[str]
    site_ids: list[str]
    asset_ids: list[str]
    plans: list[dict[str, Any]]


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


def seed_assets(integrator: str) -> list[str]:
    """An asset at the active store and a retired one: the assets generated requests name."""
    from facilities.asset_services import NothingUsesAssets, create_asset, retire_asset
    from facilities.selectors import integrator_by_slug

    owner = integrator_by_slug(integrator)
    assets = [
        create_asset(owner, {"code": code, "name": code, "site_code": "FUZZ-STORE-1"})
        for code in ("FUZZ-ASSET-1", "FUZZ-ASSET-2")
    ]
    retire_asset(assets[1], usage=NothingUsesAssets())
    return [str(asset.pk) for asset in assets]


#: How many coming occurrences of the seeded daily plan are skipped, for valid skips to take
#: back (each one taken back is used up; the run's own skips add more).
SEEDED_SKIPS = 40


def seed_plans(integrator: str, *, store_id: str, asset_id: str) -> list[dict[str, Any]]:
    """Plans generated requests name: one on the active asset, one at the active store with
    coming occurrences skipped, and an archived one (active ones first). Each as the hooks
    need it: its id, its timing (to compute its occurrences) and the due times of its skipped
    occurrences."""
    from facilities.selectors import integrator_by_slug
    from maintenance import services
    from maintenance.selectors import coming
    from portal.container import plan_orders

    owner = integrator_by_slug(integrator)
    common = {
        "starts_on": "2026-01-01",
        "at": "09:00",
        "order": {"title": "Fuzz maintenance", "category": "general"},
    }
    bodies = [
        {"name": "Fuzz weekly", "asset_id": asset_id, "recurrence": "FREQ=WEEKLY;BYDAY=MO"},
        {"name": "Fuzz daily", "site_id": store_id, "recurrence": "FREQ=DAILY"},
        {"name": "Fuzz archived", "site_id": store_id, "recurrence": "FREQ=MONTHLY"},
    ]
    plans = [
        services.create_plan(owner, {**body, **common}, orders=plan_orders()) for body in bodies
    ]
    _, daily, archived = plans
    skipped = [o.due_at for o in coming(daily, count=10 + SEEDED_SKIPS)[10:]]
    for due_at in skipped:
        services.skip_occurrence(daily, due_at, reason="Seeded skip", by="integrator:fuzz")
    services.archive_plan(archived)
    return [
        {
            "id": str(plan.pk),
            "recurrence": plan.recurrence,
            "starts_on": common["starts_on"],
            "at": common["at"],
            "time_zone": plan.site.time_zone,
            "skipped": [d.isoformat() for d in skipped] if plan is daily else [],
        }
        for plan in plans
    ]


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
        asset_ids = seed_assets(integrator.slug)
        plans = seed_plans(integrator.slug, store_id=site_ids[1], asset_id=asset_ids[0])
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
        yield ContractServer(f"http://127.0.0.1:{port}", key, order_ids, site_ids, asset_ids, plans)
    finally:
        processes.stop_all()
        # The run's plans (seeded and generated) share the database with the other tests:
        # archived, so that no scheduler a later test starts makes their orders.
        from django.utils import timezone

        from maintenance.models import MaintenancePlan

        with django_db_blocker.unblock():
            MaintenancePlan.objects.filter(integrator=integrator, archived_at__isnull=True).update(
                archived_at=timezone.now()
            )


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
        # The hooks compute plans' occurrences with the plans' own (pure) rules.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "FUZZ_ORDER_IDS": ",".join(contract_server.order_ids),
        "FUZZ_SITE_IDS": ",".join(contract_server.site_ids),
        "FUZZ_REGION_ID": contract_server.site_ids[0],
        "FUZZ_STORE_ID": contract_server.site_ids[1],
        "FUZZ_ASSET_IDS": ",".join(contract_server.asset_ids),
        "FUZZ_PLAN_IDS": ",".join(plan["id"] for plan in contract_server.plans),
        "FUZZ_PLANS": json.dumps(contract_server.plans),
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

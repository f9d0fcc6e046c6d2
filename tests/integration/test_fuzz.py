"""Property-based fuzzing of the integrator API from its own OpenAPI schema (schemathesis).

Every operation of ``/v1/schema`` gets a bounded number of generated requests, valid and
invalid, sent in-process to Django's WSGI app with a real API key against the emulator
stack. Each answer must not be a 5xx and must match the schema: a documented status code,
the documented content type, headers and body. Generation is derandomized, so a run is
repeatable in CI; Hypothesis keeps no example database.
"""

from __future__ import annotations

import zlib

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.wsgi import application

from .conftest import make_integrator
from .test_openapi import CHECKED_IN

#: Requests generated per operation by the fuzzing phase. The examples phase adds the schema's
#: examples and the coverage phase a deterministic set of boundary and invalid values, about
#: a hundred per operation here.
MAX_EXAMPLES = 25

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    missing_required_header,
    ignored_auth,
]


@pytest.fixture
def same_connection():
    """Keep Django from closing the database connection after each request, as its test
    client does: the requests run in this test's transaction, which sees its integrator."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


@pytest.fixture
def fuzz_caller(aws, db, settings, same_connection):
    """An integrator with a real key and a few orders in several statuses, so that generated
    requests can also hit orders that exist (and move them)."""
    from orders.container import order_service
    from orders.domain.model import Actor
    from orders.domain.rules import OrderInput

    settings.API_RATE_LIMIT = "100000/minute"  # the fuzzer is not what the throttle is about
    # Generated webhook URLs are checked for form only: no DNS lookups of random host names,
    # and no dispatcher runs here, so nothing is ever sent to them.
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    integrator = make_integrator("Fuzz")
    service = order_service()
    worker = Actor.system("worker:fuzz")
    ids = []
    for i, path in enumerate(
        [(), (), ("accepted",), ("accepted", "scheduled"), ("accepted", "scheduled")]
    ):
        order = service.create_order(
            data=OrderInput(
                title=f"Fuzz {i}",
                category="general",
                site="Depot 1",
                external_reference=f"FUZZ-{i}",
            ),
            integrator=integrator.slug,
            actor=Actor.integrator(integrator.slug),
        )
        for to in path:
            team = "fuzz-crew" if to == "scheduled" else None
            order = service.transition_order(order_id=order.id, to=to, actor=worker, team=team)
        ids.append(order.id)
    return integrator.key, ids


# The checked-in contract, which test_openapi.py keeps equal to what the code generates. (Loaded
# at import: schemathesis' lazy `from_fixture` loader does not work with pytest 9.2 yet.)
# Hypothesis' caches (Unicode tables, constants) go with the other state, not into the work tree.
set_hypothesis_home_dir(CHECKED_IN.parents[1] / ".state" / "hypothesis")

schema = schemathesis.openapi.from_path(CHECKED_IN)
schema.app = application  # requests go to Django's WSGI app in this process
schema.config.update(base_url="http://localhost")
schema.config.generation.update(
    modes=["positive", "negative"],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract(case, fuzz_caller):
    key, order_ids = fuzz_caller
    vary_generated_values(case, order_ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)


def vary_generated_values(case, order_ids: list[str]) -> None:
    """Steer some generated values to where the interesting answers are. Each choice is a
    function of the generated case, so a run stays as repeatable as the generation."""

    def pick(value, choices: int) -> int:
        if isinstance(value, NotSet):  # its repr holds an address, which changes every run
            value = None
        return zlib.crc32(repr(value).encode()) % choices

    # About half of the requests name an order that exists; the others whatever was generated.
    if case.path_parameters and "order_id" in case.path_parameters:
        index = pick(case.path_parameters["order_id"], 2 * len(order_ids))
        if index < len(order_ids):
            case.path_parameters["order_id"] = order_ids[index]
    # Generated Idempotency-Keys repeat a lot ("0", "00", ...), so most POSTs would be a 422
    # for a key reused with another body. Three in four get a key of their own body.
    idempotency_key = (case.headers or {}).get("Idempotency-Key")
    reusable = isinstance(idempotency_key, str) and 0 < len(idempotency_key) <= 200
    if reusable and pick(case.body, 4):
        case.headers["Idempotency-Key"] = f"{idempotency_key}.{pick(case.body, 2**32)}"

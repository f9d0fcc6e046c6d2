"""Shared fixtures. Integration and end-to-end tests talk to a real moto server process (or
ministack's, TEST_AWS=ministack) over HTTP; each provisioned stack has its own resource prefix,
so tests never see each other's queues."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.support import (
    AwsStack,
    Emulators,
    Processes,
    chosen_aws_engine,
    chosen_dynamodb_engine,
    emulators,
    services_on,
)

# The emulator accepts any credentials; make sure boto3 never looks for real ones.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """The test process wraps each test in a transaction. The portal's SQLite transactions are
    IMMEDIATE (they take the write lock as they begin), which would make that one hold the lock
    for the whole test and block the web and worker processes a test starts; so this process
    alone uses SQLite's default (DEFERRED). The processes it starts use the portal's settings."""
    from django.conf import settings

    settings.DATABASES["default"].get("OPTIONS", {}).pop("transaction_mode", None)


def unique_prefix(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def pytest_report_header(config) -> str:
    engine, explicit = chosen_dynamodb_engine()
    how = "TEST_DYNAMODB" if explicit else "default; TEST_DYNAMODB=local|moto chooses"
    services = chosen_aws_engine()
    return f"DynamoDB engine: {engine} ({how}); SNS, SQS, S3: {services} (TEST_AWS=moto|ministack)"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulators]:
    """moto or ministack (SNS, SQS, S3: ``TEST_AWS``) and the session's DynamoDB engine,
    started once, stopped at the end (``str(emulator)`` is the SNS, SQS and S3 endpoint)."""
    processes = Processes()
    try:
        with emulators(processes) as started:
            yield started
    finally:
        processes.stop_all()


@pytest.fixture(scope="session")
def aws(emulator: Emulators) -> Iterator[AwsStack]:
    """A provisioned standard (non-FIFO) stack, wired into Django's settings so that the
    services, the repository and the API in this process use it."""
    with services_on(AwsStack.provision(emulator, unique_prefix("it"))) as stack:
        yield stack


@pytest.fixture
def relay(aws):
    """An event relay over the shared stack's stream that starts at its current end, so a test
    sees exactly the events its own writes committed. It lists the shards at every poll (a
    shard that appears later is read from its start). DynamoDB Local answers a LATEST
    iterator taken on a shard with no record yet with TrimmedDataAccessException once a
    record arrives (the relay would then start at the end again, past the test's first
    event): a record the relay skips (a ``RELAY#`` key) first makes sure the shard has one."""
    from django.conf import settings

    from orders.events.relay import MemoryCheckpoints
    from orders.repository.table_design import RELAY_PREFIX
    from portal.container import client, event_relay

    client("dynamodb").put_item(
        TableName=settings.ORDERS_TABLE_NAME,
        Item={"pk": {"S": f"{RELAY_PREFIX}test-warm-up"}, "sk": {"S": "WARM-UP"}},
    )
    relay = event_relay(checkpoints=MemoryCheckpoints(), start_at="LATEST", refresh_seconds=0)
    relay.poll()  # takes its place at the end of the stream now
    return relay


def pytest_collection_modifyitems(config, items) -> None:
    """End-to-end tests run last. Their portal lives for the whole session and includes a
    webhook dispatcher and status workers on the test database: beside the integration tests
    it would lease their webhook deliveries too (seen as a deadlock in a delete-race test,
    whose delivery the portal's dispatcher had attempted meanwhile)."""
    items.sort(key=lambda item: "e2e" in item.nodeid.split("/"))

"""boto3 clients, built once per process per (service, endpoint, region): one endpoint setting
reaches the emulator or AWS. Only ``portal.container`` calls these (with the settings)."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()

# Bounded so that a handler gives up (and its message is retried) well within the queue's
# visibility timeout: 3 attempts of at most 3 s + 10 s. Calls normally take milliseconds.
SERVICE_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=50,
)
#: Readiness probes answer within a couple of seconds or fail: no retries.
PROBE_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1})
#: S3 signs with SigV4, presigned GETs and POST forms included. Unasked, botocore presigns
#: with SigV2 where a region still lists it (us-east-1 among them), and S3 refuses SigV2 for
#: every bucket created after 24 June 2020 (ours are).
S3_CONFIG = Config(signature_version="s3v4")


#: The services ``AWS_ENDPOINT_URL_DYNAMODB`` serves: a table and its stream live together.
DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


def endpoint_for(service: str, *, default: str | None, dynamodb: str | None) -> str | None:
    """The endpoint of ``service``: ``dynamodb`` for DynamoDB and its streams when set,
    ``default`` for everything else (and for DynamoDB when ``dynamodb`` is unset)."""
    if service in DYNAMODB_SERVICES and dynamodb:
        return dynamodb
    return default


@cache
def _client(service: str, endpoint_url: str | None, region: str, probe: bool) -> Any:
    # boto3.Session is not thread-safe; clients are, so they are built once under a lock.
    with _lock:
        config = PROBE_CONFIG if probe else SERVICE_CONFIG
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=endpoint_url,
            config=config.merge(S3_CONFIG) if service == "s3" else config,
        )


def client(service: str, *, endpoint_url: str | None, region: str) -> Any:
    """A shared client for ``service``."""
    return _client(service, endpoint_url, region, False)


def probe_client(service: str, *, endpoint_url: str | None, region: str) -> Any:
    """A shared client for ``service`` with the probes' short timeouts."""
    return _client(service, endpoint_url, region, True)


def reset() -> None:
    """Forget the clients (settings changed: another endpoint)."""
    _client.cache_clear()

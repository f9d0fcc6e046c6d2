"""boto3 clients configured from settings: one endpoint setting reaches the emulator or AWS."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()


@cache
def _session_client(service: str, endpoint_url: str | None, region: str) -> Any:
    # Bounded so that a handler gives up (and its message is retried) well within the queue's
    # visibility timeout: 3 attempts of at most 3 s + 10 s. Calls normally take milliseconds.
    config = Config(
        connect_timeout=3,
        read_timeout=10,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=50,
    )
    # boto3.Session is not thread-safe; clients are, so they are built once under a lock.
    with _lock:
        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=endpoint_url, config=config
        )


def client(service: str) -> Any:
    """A shared client for ``service``, built once per process."""
    from django.conf import settings

    return _session_client(service, settings.AWS_ENDPOINT_URL or None, settings.AWS_REGION)


@cache
def _queue_url(service_endpoint: str | None, region: str, name: str) -> str:
    # The endpoint is part of the cache key: tests switch emulators within one process.
    return _session_client("sqs", service_endpoint, region).get_queue_url(QueueName=name)[
        "QueueUrl"
    ]


def queue_url(name: str) -> str:
    """The URL of the SQS queue ``name``, looked up once per process (read-only
    ``GetQueueUrl``: the queues are provisioned, never created here)."""
    from django.conf import settings

    return _queue_url(settings.AWS_ENDPOINT_URL or None, settings.AWS_REGION, name)


def reset_clients() -> None:
    """Forget the clients and what they looked up (settings changed: another endpoint)."""
    _session_client.cache_clear()
    _queue_url.cache_clear()

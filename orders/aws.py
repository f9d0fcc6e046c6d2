"""boto3 clients configured from settings: one endpoint setting reaches the emulator or AWS."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_lock = threading.Lock()


@cache
def _session_client(service: str, endpoint_url: str | None, region: str, profile: tuple) -> Any:
    connect_timeout, read_timeout, attempts = profile
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "max_attempts": attempts},
        max_pool_connections=50,
    )
    # boto3.Session is not thread-safe; clients are, so they are built once under a lock.
    with _lock:
        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=endpoint_url, config=config
        )


def client(service: str, *, fast_fail: bool = False) -> Any:
    """A shared client for ``service``. ``fast_fail`` for calls on a request's path whose
    failure is covered elsewhere (publishing: the outbox relay retries)."""
    from django.conf import settings

    # Fast: at most 2 attempts of 1 s to connect + 2 s to read, well inside the outbox grace.
    profile = (1, 2, 2) if fast_fail else (5, 30, 5)
    return _session_client(service, settings.AWS_ENDPOINT_URL or None, settings.AWS_REGION, profile)


def reset_clients() -> None:
    _session_client.cache_clear()

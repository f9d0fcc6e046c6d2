"""Fixtures of the sites' tests: an integrator with a key and a client sending it (the Django
database only: no AWS unless a test sends an Idempotency-Key, whose records are in DynamoDB)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.integration.conftest import client_for, make_integrator

REGION = {"code": "REGION-NE", "name": "Northeast", "kind": "region", "time_zone": "UTC"}
STORE = {
    "code": "STORE-0012",
    "name": "Store 12, 5th Ave",
    "kind": "site",
    "parent_code": "REGION-NE",
    "address": {
        "line1": "512 5th Ave",
        "city": "New York",
        "region": "NY",
        "postal_code": "10036",
        "country": "US",
    },
    "time_zone": "America/New_York",
    "access_hours": [{"days": ["mon", "fri"], "opens": "07:00", "closes": "22:00"}],
    "contacts": [{"name": "Dana Reyes", "role": "Store manager", "phone": "+1 555 0100"}],
}


def send(client: Client, method: str, path: str, body: Any = None, **headers: str):
    call = getattr(client, method)
    if body is None:
        return call(path, **headers)
    return call(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def owner(db):
    return make_integrator("Owner")


@pytest.fixture
def sites(owner) -> Client:
    """A client of ``owner``."""
    return client_for(owner)


@pytest.fixture
def store(sites) -> dict:
    """A region and a store under it, created over the API; the store's body."""
    assert send(sites, "post", "/v1/sites", REGION).status_code == 201
    created = send(sites, "post", "/v1/sites", STORE)
    assert created.status_code == 201, created.content
    return created.json()

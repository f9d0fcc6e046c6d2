"""API fixtures: integrators with real keys, and clients that send them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.test import Client


@dataclass
class IntegratorWithKey:
    slug: str
    key: str
    model: object


def make_integrator(name: str = "Acme") -> IntegratorWithKey:
    from integrators.services import create_integrator, issue_key

    slug = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
    integrator, _ = create_integrator(name, slug=slug)
    _, key = issue_key(integrator, label="test")
    return IntegratorWithKey(slug=slug, key=key, model=integrator)


def client_for(integrator: IntegratorWithKey) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {integrator.key}")


@pytest.fixture
def integrator(db) -> IntegratorWithKey:
    return make_integrator()


@pytest.fixture
def api(aws, integrator) -> Client:
    """A client authenticated as ``integrator``, against the shared emulator stack."""
    return client_for(integrator)

"""Fixtures of the plans' tests: an integrator with a store in Madrid and a rooftop unit in
it, and an order maker that keeps orders in memory the way the orders' store admits them
(an id once), so the scheduler's guarantees are tested on the database alone. The tests that
need the real orders (DynamoDB, the pipeline) say so and use the container's maker."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from facilities.models import Asset
from facilities.services import create_site
from kernel.errors import ValidationError
from maintenance.ports import PlannedOrder
from tests.integration.conftest import client_for, make_integrator

MADRID = ZoneInfo("Europe/Madrid")


@dataclass
class MemoryOrders:
    """``OrderMaker`` in memory: an order id is admitted once, as the orders' store does."""

    orders: dict[str, PlannedOrder] = field(default_factory=dict)
    refuse: str | None = None  # a reason every create is refused with (ValidationError)
    fail: type[Exception] | None = None  # raised by every create (the store is down)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check_template(self, template: Mapping[str, str]) -> None:
        if template.get("category") not in ("hvac", "electrical", "plumbing", "general"):
            raise ValidationError({"order.category": ["Not a category."]})

    def create(self, order: PlannedOrder) -> bool:
        if self.fail is not None:
            raise self.fail("the orders' store is not answering")
        if self.refuse is not None:
            raise ValidationError({"asset_id": [self.refuse]})
        with self.lock:
            if order.order_id in self.orders:
                return False
            self.orders[order.order_id] = order
            return True


@pytest.fixture
def owner(db):
    return make_integrator("Planner")


@pytest.fixture
def planner(owner):
    return client_for(owner)


@pytest.fixture
def store(owner):
    return create_site(
        owner.model,
        {
            "code": f"STORE-{uuid.uuid4().hex[:4]}",
            "name": "Store 12",
            "kind": "site",
            "time_zone": "Europe/Madrid",
        },
    )


@pytest.fixture
def unit(owner, store):
    now = timezone.now()
    return Asset.objects.create(
        integrator=owner.model,
        site=store,
        code=f"RTU-{uuid.uuid4().hex[:4]}",
        name="Rooftop unit 1",
        category="Rooftop unit",
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )


@pytest.fixture
def memory_orders() -> MemoryOrders:
    return MemoryOrders()


def plan_body(**changes) -> dict:
    body = {
        "name": "Monthly filter change",
        "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1",
        "starts_on": "2027-01-01",
        "at": "07:00",
        "lead_days": 3,
        "order": {"title": "Change the filters", "category": "hvac", "priority": "normal"},
    }
    body.update(changes)
    return body


def at_madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID).astimezone(UTC)

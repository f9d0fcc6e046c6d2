"""The orders ``bench/admin_pages.py`` measures the admin's pages over: a seeded population
made by the domain's rules and written straight to the orders table (``load``).

Eight integrators (one sends 40 %), four categories, priorities mostly normal (8 % urgent),
created at random over the past ``days``, each moved along the workflow to the status its age
makes likely; 25 items per ``BatchWriteItem``, ``threads`` calls in flight.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from orders.domain import rules
from orders.domain.model import Actor, Order, Priority
from orders.domain.rules import OrderInput
from orders.domain.workflow import Status
from orders.repository.batch import WRITE_BATCH, batch_write, puts
from orders.repository.items import order_to_item
from tests.support import AwsStack

#: (slug, share of the orders in %): one large integrator, a long tail.
INTEGRATORS = (
    ("acme-facilities", 40),
    ("northwind", 20),
    ("globex", 12),
    ("initech", 9),
    ("umbrella", 7),
    ("hooli", 5),
    ("stark-retail", 4),
    ("wayne-stores", 3),
)
CATEGORY_SHARES = {"hvac": 35, "electrical": 25, "plumbing": 25, "general": 15}
PRIORITY_SHARES = {
    Priority.LOW: 15,
    Priority.NORMAL: 55,
    Priority.HIGH: 22,
    Priority.URGENT: 8,
}
#: Where an order of an age stands (shares in %): up to the age, from the youngest.
STATUS_BY_AGE: tuple[tuple[timedelta, dict[Status, float]], ...] = (
    (
        timedelta(minutes=10),
        {
            Status.RECEIVED: 25,
            Status.ACCEPTED: 15,
            Status.SCHEDULED: 50,
            Status.REJECTED: 5,
            Status.CANCELLED: 5,
        },
    ),
    (
        timedelta(days=2),
        {
            Status.ACCEPTED: 2,
            Status.SCHEDULED: 38,
            Status.IN_PROGRESS: 22,
            Status.ON_HOLD: 4,
            Status.COMPLETED: 28,
            Status.CANCELLED: 4,
            Status.REJECTED: 2,
        },
    ),
    (
        timedelta(days=7),
        {
            Status.SCHEDULED: 6,
            Status.IN_PROGRESS: 6,
            Status.ON_HOLD: 3,
            Status.COMPLETED: 76,
            Status.CANCELLED: 6,
            Status.REJECTED: 3,
        },
    ),
    (
        timedelta.max,
        {
            Status.IN_PROGRESS: 0.5,
            Status.ON_HOLD: 1,
            Status.COMPLETED: 88.5,
            Status.CANCELLED: 7,
            Status.REJECTED: 3,
        },
    ),
)
#: The moves that lead to each status from received (who makes them comes below).
PATHS: dict[Status, tuple[Status, ...]] = {
    Status.RECEIVED: (),
    Status.REJECTED: (Status.REJECTED,),
    Status.ACCEPTED: (Status.ACCEPTED,),
    Status.SCHEDULED: (Status.ACCEPTED, Status.SCHEDULED),
    Status.IN_PROGRESS: (Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS),
    Status.ON_HOLD: (Status.ACCEPTED, Status.SCHEDULED, Status.ON_HOLD),
    Status.COMPLETED: (Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED),
    Status.CANCELLED: (Status.ACCEPTED, Status.SCHEDULED, Status.CANCELLED),
}
REASONS = {
    Status.REJECTED: "Site outside the service area",
    Status.ON_HOLD: "Waiting for parts",
    Status.CANCELLED: "Customer withdrew the request",
}
TITLES = {
    "hvac": ("Replace HVAC filter", "AC not cooling", "Thermostat unresponsive"),
    "electrical": ("Lights flickering", "Replace breaker", "Install outlet"),
    "plumbing": ("Leaking tap", "Blocked drain", "Water heater check"),
    "general": ("Door does not close", "Repaint wall", "Replace ceiling tile"),
}


def _pick(rnd: random.Random, shares: dict) -> Any:
    return rnd.choices(list(shares), weights=list(shares.values()))[0]


def population(count: int, *, days: float, seed: int, now: datetime) -> Iterator[Order]:
    """``count`` orders as the portal would have stored them, each created at random over the
    past ``days``, then moved by the rules (system, staff, integrator as the workflow says)
    to the status its age makes likely."""
    rnd = random.Random(seed)
    integrators = {slug: share for slug, share in INTEGRATORS}
    span = timedelta(days=days).total_seconds()
    system, staff = Actor.system("bench-worker"), Actor.staff("bench-dispatcher")
    for n in range(count):
        integrator = _pick(rnd, integrators)
        category = _pick(rnd, CATEGORY_SHARES)
        created = now - timedelta(seconds=rnd.random() * span)
        order, _ = rules.create_order(
            OrderInput(
                title=rnd.choice(TITLES[category]),
                category=category,
                priority=str(_pick(rnd, PRIORITY_SHARES)),
                site=f"Store {rnd.randrange(1, 2000)}",
                external_reference=f"{integrator[:3].upper()}-{n:07d}",
                description="Reported by the store manager; access through the loading bay.",
            ),
            order_id=str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
            integrator=integrator,
            actor=Actor.integrator(integrator),
            now=created,
        )
        age = now - created
        status = _pick(rnd, next(shares for upto, shares in STATUS_BY_AGE if age <= upto))
        # The workers move an order on within seconds; people over the hours that follow.
        at = created
        for to in PATHS[status]:
            if to in (Status.ACCEPTED, Status.SCHEDULED) or (
                to is Status.REJECTED and status is Status.REJECTED
            ):
                at = min(now, at + timedelta(seconds=rnd.uniform(0.5, 3)))
                actor = system
            else:
                room = min(now - at, timedelta(days=1)).total_seconds()
                at += timedelta(seconds=rnd.uniform(0.1, 0.9) * room)
                actor = Actor.integrator(integrator) if to is Status.CANCELLED else staff
            order, _ = rules.move(
                order,
                to,
                actor=actor,
                now=at,
                reason=REASONS.get(to),
                team=f"{category}-crew",
            )
        yield order


def load(stack: AwsStack, count: int, *, threads: int, days: float) -> Counter:
    """Write ``count`` orders to the stack's orders table, ``threads`` BatchWriteItem calls in
    flight while the next ones are made; returns the orders per status."""
    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=stack.dynamodb_endpoint,
        region_name="us-east-1",
        config=Config(
            max_pool_connections=threads,
            read_timeout=300,
            retries={"mode": "standard", "max_attempts": 10},
        ),
    )
    table = stack.resources.table
    statuses: Counter = Counter()
    in_flight: set[Future] = set()
    batch: list[dict] = []

    def send(items: list[dict]) -> None:
        nonlocal in_flight
        while len(in_flight) >= 4 * threads:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()
        in_flight.add(pool.submit(batch_write, client, table, puts(items)))

    with ThreadPoolExecutor(threads, thread_name_prefix="load") as pool:
        for order in population(count, days=days, seed=count, now=datetime.now(UTC)):
            statuses[str(order.status)] += 1
            batch.append(order_to_item(order))
            if len(batch) == WRITE_BATCH:
                send(batch)
                batch = []
        if batch:
            send(batch)
        for future in in_flight:
            future.result()
    return statuses

"""Never lose an event: an order stored while SNS is unreachable is published later."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config

from orders import container
from orders.domain.model import Actor
from orders.domain.rules import OrderInput
from orders.events.outbox import Outbox
from orders.events.publisher import SnsPublisher
from orders.repository.memory import InMemoryTeamLoads
from orders.services import OrderService, TeamInfo, utcnow
from tests.support import free_port


class AllTeams:
    def active_teams(self, category):
        return [TeamInfo("crew", 5)]

    def team_codes(self, category):
        return ["crew"]

    def served_categories(self):
        return {"hvac", "electrical", "plumbing", "general"}


class Silent:
    def notify(self, order, *, status, event_id):
        pass


@pytest.fixture
def unreachable_sns():
    """An SNS client pointed at a port where nothing listens, as when SNS is down."""
    return boto3.client(
        "sns",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        config=Config(connect_timeout=0.5, retries={"max_attempts": 1}),
    )


def pending_order_ids(repository) -> set[str]:
    later = utcnow() + timedelta(days=1)
    return {m.order_id for m in repository.pending_messages(created_before=later, limit=1000)}


def test_an_order_stored_while_sns_is_down_is_published_by_the_relay(aws, unreachable_sns):
    queue = aws.status_queue("received")
    aws.drain(queue)
    repository = container.order_repository()
    broken = Outbox(
        repository,
        SnsPublisher(unreachable_sns, lambda: aws.topic_arn, fifo=False),
        grace=timedelta(seconds=10),
    )
    service = OrderService(
        orders=repository,
        outbox=broken,
        teams=AllTeams(),
        loads=InMemoryTeamLoads(),
        notifier=Silent(),
    )

    order = service.create_order(
        data=OrderInput(title="Leak", category="plumbing", site="Unit 4"),
        integrator="acme",
        actor=Actor.integrator("acme"),
    )

    assert repository.get(order.id).status == "received"  # accepted and stored...
    assert aws.drain(queue) == []  # ...but not published
    assert order.id in pending_order_ids(repository)

    # Like a process that died right after the write: a fresh relay knows only the outbox.
    relay = container.outbox()
    relay.sweep(now=utcnow())
    assert order.id in pending_order_ids(repository), "younger than the grace period: left alone"

    relay.sweep(now=utcnow() + timedelta(seconds=11))

    subjects = [json.loads(m["Body"])["subject"] for m in aws.drain(queue)]
    assert subjects.count(order.id) == 1
    assert order.id not in pending_order_ids(repository)
    relay.sweep(now=utcnow() + timedelta(seconds=11))
    assert order.id not in [json.loads(m["Body"])["subject"] for m in aws.drain(queue)]

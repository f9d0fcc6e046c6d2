"""Never lose an event: the relay publishes what the orders table's stream committed."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config

from orders.domain.model import Actor
from orders.domain.rules import OrderInput
from orders.domain.sla import ALWAYS
from orders.events.publisher import SnsPublisher
from orders.repository.dynamodb import RELAY_PREFIX, DynamoCheckpoints, event_from_image
from orders.services import OrderService, TeamInfo
from portal import container
from tests.support import free_port


class AllTeams:
    def active_teams(self, category):
        return [TeamInfo("crew", 5)]

    def team_codes(self, category):
        return ["crew"]

    def served_categories(self):
        return {"hvac", "electrical", "plumbing", "general"}

    def calendar(self, team):
        return ALWAYS

    def technician(self, team, technician_id):
        return None


class Silent:
    def notify(self, event, *, integrator):
        return 0


@pytest.fixture
def service(aws) -> OrderService:
    from orders.repository.memory import InMemoryTeamLoads

    return OrderService(
        orders=container.order_repository(),
        teams=AllTeams(),
        loads=InMemoryTeamLoads(),
        notifier=Silent(),
    )


def create(service: OrderService):
    return service.create_order(
        data=OrderInput(title="Leak", category="plumbing", site="Unit 4"),
        integrator="acme",
        actor=Actor.integrator("acme"),
    )


def subjects(aws, status: str) -> list[str]:
    return [json.loads(m["Body"])["subject"] for m in aws.drain(aws.status_queue(status))]


def test_stored_orders_are_published_by_the_relay_in_order(aws, service, relay):
    aws.drain(aws.status_queue("received"))
    aws.drain(aws.status_queue("cancelled"))
    first, second = create(service), create(service)
    service.transition_order(order_id=first.id, to="cancelled", actor=Actor.integrator("acme"))

    assert subjects(aws, "received") == []  # stored, not yet published

    result = relay.poll()

    assert result.published == 3
    assert subjects(aws, "received") == [first.id, second.id]
    assert subjects(aws, "cancelled") == [first.id]
    assert relay.poll().published == 0


def read_to_the_end(relay, most: int = 100) -> None:
    """Poll until the stream runs dry, then checkpoint as a relay does when it stops."""
    for _ in range(most):
        if not relay.poll().records:
            relay.checkpoint()
            return
    raise AssertionError("the stream did not run dry")


@pytest.fixture
def unreachable_sns():
    """An SNS client pointed at a port where nothing listens, as when SNS is down."""
    return boto3.client(
        "sns",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        config=Config(connect_timeout=0.5, retries={"max_attempts": 1}),
    )


def test_events_stored_while_sns_is_down_or_the_relay_is_dead_are_published_later(
    aws, service, unreachable_sns
):
    """Writes succeed whatever happens to publishing; a relay that starts later (a new
    process, reading its checkpoint from the table) publishes everything it missed."""
    aws.drain(aws.status_queue("received"))
    checkpoints = DynamoCheckpoints(aws.dynamodb, aws.resources.table)
    failing = container.event_relay(checkpoints=checkpoints)
    failing._publisher = SnsPublisher(unreachable_sns, container.topic_arn, fifo=False)

    order = create(service)  # no relay is running: the event is only in the stream
    with pytest.raises(Exception):  # noqa: B017 - whatever the SDK raises for a dead endpoint
        failing.poll()
    assert subjects(aws, "received") == []
    assert service.read.get_order(order.id).status == "received"  # the order itself is safe

    fresh = container.event_relay(checkpoints=checkpoints)
    read_to_the_end(fresh)  # the shared stream holds every other test's writes too
    assert order.id in subjects(aws, "received")

    restarted = container.event_relay(checkpoints=checkpoints)
    read_to_the_end(restarted)
    assert order.id not in subjects(aws, "received"), "published again after a checkpoint"


def test_relay_checkpoints_live_in_the_table_and_are_not_events(aws, service):
    checkpoints = DynamoCheckpoints(aws.dynamodb, aws.resources.table)
    relay = container.event_relay(checkpoints=checkpoints)
    relay.poll()
    items = aws.dynamodb.query(
        TableName=aws.resources.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": RELAY_PREFIX + relay.stream}},
    )["Items"]
    assert items and all("sequence_number" in i for i in items)
    assert all(event_from_image(i) is None for i in items)


def test_relay_groups_share_the_real_stream_and_publish_each_event_once(aws, service, settings):
    """Two relays of a group of two over the emulator's stream (DescribeStream, iterators,
    checkpoints in the table): every event is published by exactly one of them."""
    from orders.events.relay import MemoryCheckpoints

    relays = []
    for group in (0, 1):
        settings.EVENT_RELAY_GROUPS, settings.EVENT_RELAY_GROUP = 2, group
        relay = container.event_relay(checkpoints=MemoryCheckpoints(), start_at="LATEST")
        relay.poll()  # at the end of the stream now
        relays.append(relay)
    aws.drain(aws.status_queue("received"))
    created = [create(service) for _ in range(3)]

    published = [relay.poll().published for relay in relays]

    assert sum(published) == 3  # the emulator's stream has few shards: whichever owns them
    assert sorted(subjects(aws, "received")) == sorted(order.id for order in created)
    assert [relay.poll().published for relay in relays] == [0, 0]


class PublishesThenDies:
    """Publishes ten at a time like SNS's PublishBatch; the process dies after ``survive``."""

    def __init__(self, survive: int | None = None) -> None:
        self.survive = survive
        self.published: list[str] = []

    def publish(self, messages) -> None:
        for start in range(0, len(messages), 10):
            if self.survive is not None and len(self.published) >= self.survive:
                raise SystemExit("relay killed")
            self.published.extend(m.event_id for m in messages[start : start + 10])


def test_a_relay_killed_part_way_through_a_read_republishes_at_most_one_chunk(aws):
    """Against the emulator's stream and checkpoints kept in the table, as after a restart."""
    from orders.events.relay import EventRelay
    from orders.repository.dynamodb import DynamoOrderRepository
    from tests.integration.factories import new_order

    table = aws.fresh_table("relaykill")
    orders = DynamoOrderRepository(aws.dynamodb, table, cursor_secret=b"s")
    events = []
    for _ in range(250):
        order, _, message = new_order()
        orders.add(order, message)
        events.append(message.event_id)
    streams = boto3.client("dynamodbstreams", endpoint_url=aws.endpoint, region_name="us-east-1")
    arn = aws.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    checkpoints = DynamoCheckpoints(aws.dynamodb, table)

    def relay(publisher) -> EventRelay:
        return EventRelay(
            streams=streams,
            stream_arn=lambda: arn,
            publisher=publisher,
            checkpoints=checkpoints,
            decode=event_from_image,
            skip_key_prefix=RELAY_PREFIX,
        )

    # Dies part way through the first read: 1,000 stream records, each order's creation being
    # its item and its search index entries (7 here), so about 140 events.
    killed = PublishesThenDies(survive=100)
    with pytest.raises(SystemExit):
        relay(killed).poll()
    restarted = PublishesThenDies()
    again = relay(restarted)
    for _ in range(4):  # one read per poll: the rest of the 1,750 records, then the end
        again.poll()

    assert set(killed.published) | set(restarted.published) == set(events)
    republished = len(killed.published) + len(restarted.published) - len(events)
    assert republished <= 100, f"{republished} events published twice"

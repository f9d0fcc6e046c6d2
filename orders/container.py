"""Builds the services from settings, once per process (tests reset it when settings change)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings

from orders import aws
from orders.events.publisher import SnsPublisher
from orders.events.relay import EventRelay
from orders.repository.dynamodb import (
    RELAY_PREFIX,
    DynamoCheckpoints,
    DynamoOrderRepository,
    DynamoTeamLoads,
    event_from_image,
)
from orders.repository.feed import DynamoFeed
from orders.repository.stats import DynamoThroughput
from orders.resources import from_settings
from orders.services import OrderService

_RESET_ON = {
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "ORDERS_RESOURCE_PREFIX",
    "ORDERS_TABLE_NAME",
    "ORDERS_TOPIC_NAME",
    "ORDERS_FIFO",
    "ORDERS_ATTACHMENTS_BUCKET",
    "SECRET_KEY",
}


@cache
def topic_arn() -> str:
    """The topic's ARN, from the account the credentials belong to (no write needed)."""
    return topic_arn_for(aws.client("sts"))


def topic_arn_for(sts: Any) -> str:
    identity = sts.get_caller_identity()
    partition = identity["Arn"].split(":")[1]  # aws, aws-cn, aws-us-gov
    name = from_settings().topic_name
    return f"arn:{partition}:sns:{settings.AWS_REGION}:{identity['Account']}:{name}"


def order_repository() -> DynamoOrderRepository:
    return DynamoOrderRepository(
        aws.client("dynamodb"),
        settings.ORDERS_TABLE_NAME,
        cursor_secret=("cursor:" + settings.SECRET_KEY).encode(),
        region=settings.AWS_REGION,
    )


@cache
def order_service() -> OrderService:
    from orders.team_directory import DjangoTeamDirectory
    from orders.webhooks.recording import WebhookNotifier

    return OrderService(
        orders=order_repository(),
        teams=DjangoTeamDirectory(),
        loads=DynamoTeamLoads(aws.client("dynamodb"), settings.ORDERS_TABLE_NAME),
        notifier=WebhookNotifier(),
    )


def stream_arn() -> str:
    table = aws.client("dynamodb").describe_table(TableName=settings.ORDERS_TABLE_NAME)["Table"]
    if "LatestStreamArn" not in table:
        raise RuntimeError(f"table {settings.ORDERS_TABLE_NAME} has no stream; run provision")
    return table["LatestStreamArn"]


def event_relay(*, checkpoints=None, start_at: str = "TRIM_HORIZON") -> EventRelay:
    return EventRelay(
        streams=aws.client("dynamodbstreams"),
        stream_arn=stream_arn,
        publisher=SnsPublisher(
            aws.client("sns"),
            topic_arn,
            fifo=settings.ORDERS_FIFO,
            concurrency=settings.EVENT_RELAY_PUBLISH_CONCURRENCY,
        ),
        checkpoints=checkpoints
        or DynamoCheckpoints(aws.client("dynamodb"), settings.ORDERS_TABLE_NAME),
        decode=event_from_image,
        skip_key_prefix=RELAY_PREFIX,
        start_at=start_at,
        home_region=settings.AWS_REGION,
        group=settings.EVENT_RELAY_GROUP,
        groups=settings.EVENT_RELAY_GROUPS,
        batch_limit=settings.EVENT_RELAY_BATCH,
        feed=event_feed(),
        projections=[throughput()],
    )


def throughput() -> DynamoThroughput:
    return DynamoThroughput(aws.client("dynamodb"), settings.ORDERS_TABLE_NAME)


def event_feed() -> DynamoFeed:
    return DynamoFeed(
        aws.client("dynamodb"),
        settings.ORDERS_TABLE_NAME,
        cursor_secret=("feed:" + settings.SECRET_KEY).encode(),
        retention_seconds=int(settings.EVENT_FEED_RETENTION_DAYS * 86400),
        settle_seconds=settings.EVENT_FEED_SETTLE_SECONDS,
    )


def reset() -> None:
    order_service.cache_clear()
    topic_arn.cache_clear()
    aws.reset_clients()


def reset_on_setting_change(*, setting: str, **_) -> None:
    if setting in _RESET_ON:
        reset()

"""Builds the services from settings, once per process (tests reset it when settings change)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.conf import settings

from orders import aws
from orders.events.outbox import Outbox
from orders.events.publisher import SnsPublisher
from orders.notifications import LoggingNotifier
from orders.repository.dynamodb import DynamoOrderRepository, DynamoTeamLoads
from orders.resources import from_settings
from orders.services import OrderService

_RESET_ON = {
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "ORDERS_RESOURCE_PREFIX",
    "ORDERS_TABLE_NAME",
    "ORDERS_TOPIC_NAME",
    "ORDERS_FIFO",
    "OUTBOX_GRACE_SECONDS",
    "SECRET_KEY",
}


@cache
def topic_arn() -> str:
    """The topic's ARN, from the account the credentials belong to (no write needed)."""
    identity = aws.client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1]  # aws, aws-cn, aws-us-gov
    name = from_settings().topic_name
    return f"arn:{partition}:sns:{settings.AWS_REGION}:{identity['Account']}:{name}"


def order_repository() -> DynamoOrderRepository:
    return DynamoOrderRepository(
        aws.client("dynamodb"),
        settings.ORDERS_TABLE_NAME,
        cursor_secret=("cursor:" + settings.SECRET_KEY).encode(),
    )


def outbox(repository=None) -> Outbox:
    publisher = SnsPublisher(
        aws.client("sns", fast_fail=True), topic_arn, fifo=settings.ORDERS_FIFO
    )
    return Outbox(
        repository or order_repository(),
        publisher,
        grace=timedelta(seconds=settings.OUTBOX_GRACE_SECONDS),
    )


@cache
def order_service() -> OrderService:
    from orders.team_directory import DjangoTeamDirectory

    repository = order_repository()
    return OrderService(
        orders=repository,
        outbox=outbox(repository),
        teams=DjangoTeamDirectory(),
        loads=DynamoTeamLoads(aws.client("dynamodb"), settings.ORDERS_TABLE_NAME),
        notifier=LoggingNotifier(),
    )


def reset() -> None:
    order_service.cache_clear()
    topic_arn.cache_clear()
    aws.reset_clients()
    from workers import queues

    queues._queue_url.cache_clear()


def reset_on_setting_change(*, setting: str, **_) -> None:
    if setting in _RESET_ON:
        reset()

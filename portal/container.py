"""The composition root: every service, repository and AWS adapter is built here, from settings,
once per process; nothing else builds a boto3 client or reads the resource settings.

Each builder is decorated with ``@built_once``, which also registers it for ``reset()``: tests
(and a settings change) forget everything at once, with no list of caches kept by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings

from aws import clients
from aws.queues import StatusQueues
from aws.resources import Resources
from kernel.clock import utcnow
from kernel.fan_out import FanOut
from orders.events.publisher import SnsPublisher
from orders.events.relay import EventRelay, ProgressFile
from orders.figures import FiguresReader, FiguresRefresher, count_figures
from orders.repository.checkpoints import DynamoCheckpoints
from orders.repository.dynamodb import DynamoOrderRepository
from orders.repository.feed import DynamoFeed
from orders.repository.figures import DynamoFigures
from orders.repository.idempotency import DynamoIdempotencyStore
from orders.repository.stats import DynamoThroughput
from orders.repository.table_design import RELAY_PREFIX
from orders.repository.team_loads import DynamoTeamLoads
from orders.selectors import OrderSelector
from orders.services import OrderServices
from orders.services import order_services as build_order_services

if TYPE_CHECKING:
    from aws.provisioning import Provisioner
    from facilities.ports import PlaceOrders, PlannedWork
    from facilities.services import SiteUsage
    from maintenance.ports import OrderMaker
    from maintenance.scheduler import Scheduler
    from operations.selectors import PipelineHealth
    from orders.attachments import AttachmentService
    from orders.services import PlaceDirectory
    from webhooks.dispatch import Dispatcher

T = TypeVar("T")
_built: list[Callable[..., Any]] = []

#: Settings whose change makes what was built stale (prefixes: every setting of that family).
_RESET_ON = ("AWS_", "ORDERS_", "EVENT_", "ATTACHMENT_", "IDEMPOTENCY_", "SECRET_KEY")


def built_once(builder: Callable[..., T]) -> Callable[..., T]:
    cached = cache(builder)
    _built.append(cached)
    return cached


# -- AWS ---------------------------------------------------------------------------------------


def endpoint_url(service: str) -> str | None:
    """Where ``service`` is served: DynamoDB (and its streams) may have an endpoint of its own
    (DynamoDB Local beside moto), every other service has ``AWS_ENDPOINT_URL``."""
    return clients.endpoint_for(
        service,
        default=settings.AWS_ENDPOINT_URL or None,
        dynamodb=settings.AWS_ENDPOINT_URL_DYNAMODB or None,
    )


def client(service: str) -> Any:
    """The process's shared boto3 client for ``service`` (endpoint and region from settings:
    the emulators locally, AWS in production)."""
    return clients.client(service, endpoint_url=endpoint_url(service), region=settings.AWS_REGION)


def probe_client(service: str) -> Any:
    """A client with short timeouts and no retries, for readiness probes."""
    return clients.probe_client(
        service, endpoint_url=endpoint_url(service), region=settings.AWS_REGION
    )


def resources() -> Resources:
    """The names of the AWS resources, from settings (``aws.resources`` formats them)."""
    return Resources(
        prefix=settings.ORDERS_RESOURCE_PREFIX,
        table=settings.ORDERS_TABLE_NAME,
        topic=settings.ORDERS_TOPIC_NAME,
        fifo=settings.ORDERS_FIFO,
        bucket=settings.ORDERS_ATTACHMENTS_BUCKET,
        side=settings.ORDERS_SIDE_TABLE_NAME,
    )


def side_table() -> str:
    """The table beside the orders (notes, search entries, feed, idempotency, loads...)."""
    return resources().side_table


@built_once
def status_queues() -> StatusQueues:
    """Every SQS call on the status queues and their dead letters, with the URLs it looked up."""
    return StatusQueues(client("sqs"), resources(), cloudwatch=client("cloudwatch"))


@built_once
def topic_arn() -> str:
    """The topic's ARN, from the account the credentials belong to (no write needed)."""
    return topic_arn_for(client("sts"))


def topic_arn_for(sts: Any) -> str:
    identity = sts.get_caller_identity()
    partition = identity["Arn"].split(":")[1]  # aws, aws-cn, aws-us-gov
    name = resources().topic_name
    return f"arn:{partition}:sns:{settings.AWS_REGION}:{identity['Account']}:{name}"


def stream_arn() -> str:
    table = client("dynamodb").describe_table(TableName=settings.ORDERS_TABLE_NAME)["Table"]
    if "LatestStreamArn" not in table:
        raise RuntimeError(f"table {settings.ORDERS_TABLE_NAME} has no stream; run provision")
    return table["LatestStreamArn"]


def provisioner(report: Callable[[str], None] = print) -> Provisioner:
    from aws.provisioning import Provisioner, ProvisionSettings

    return Provisioner(
        dynamodb=client("dynamodb"),
        sns=client("sns"),
        sqs=client("sqs"),
        s3=client("s3"),
        resources=resources(),
        settings=ProvisionSettings(
            max_receive_count=settings.ORDERS_DLQ_MAX_RECEIVE_COUNT,
            visibility_timeout=settings.ORDERS_VISIBILITY_TIMEOUT,
        ),
        report=report,
    )


# -- orders ------------------------------------------------------------------------------------


@built_once
def fan_out() -> FanOut:
    """Runs a page's independent AWS reads at once (``AWS_CONCURRENT_READS`` at a time);
    one per process, shared by the repository, the selectors and the pipeline's health."""
    return FanOut(settings.AWS_CONCURRENT_READS)


def order_repository() -> DynamoOrderRepository:
    return DynamoOrderRepository(
        client("dynamodb"),
        settings.ORDERS_TABLE_NAME,
        side_table=side_table(),
        cursor_secret=("cursor:" + settings.SECRET_KEY).encode(),
        region=settings.AWS_REGION,
        fan_out=fan_out(),
    )


@built_once
def order_selector() -> OrderSelector:
    """The reads (``orders.selectors``), everyone's: the use cases', the API's, the admin's."""
    from orders.team_directory import DjangoTeamDirectory

    return OrderSelector(
        orders=order_repository(),
        calendar=DjangoTeamDirectory().calendar,
        clock=utcnow,
        fan_out=fan_out(),
    )


@built_once
def order_services() -> OrderServices:
    """The use cases that change orders (``orders.services``), over the selector above and
    the same repository (one per process, as before the reads and writes were apart)."""
    from orders.team_directory import DjangoTeamDirectory
    from webhooks.recording import WebhookNotifier

    read = order_selector()
    return build_order_services(
        orders=read.orders,
        read=read,
        teams=DjangoTeamDirectory(),
        loads=DynamoTeamLoads(client("dynamodb"), side_table()),
        notifier=WebhookNotifier(),
        places=order_places(),
    )


def integrator_names(*, active_only: bool = False) -> dict[str, str]:
    """Integrators by slug and name, for the orders' admin (``integrators.services``)."""
    from integrators.services import integrator_names as names

    return names(active_only=active_only)


def order_deliveries(order_id: str) -> Sequence[Any]:
    """The webhook deliveries recorded for an order, for its admin page (``webhooks.history``)."""
    from webhooks.history import deliveries_for_order

    return deliveries_for_order(order_id)


def attachment_service() -> AttachmentService:
    """Cheap to build: the clients and the order service are shared."""
    from orders.attachments import AttachmentService

    return AttachmentService(
        s3=client("s3"),
        bucket=resources().attachments_bucket,
        timeline=order_services().timeline,
        read=order_selector(),
        max_bytes=settings.ATTACHMENT_MAX_BYTES,
        content_types=settings.ATTACHMENT_CONTENT_TYPES,
        upload_expires=settings.ATTACHMENT_UPLOAD_EXPIRES_SECONDS,
        download_expires=settings.ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS,
        signing_key=settings.SECRET_KEY,
    )


def idempotency_store() -> DynamoIdempotencyStore:
    return DynamoIdempotencyStore(
        client("dynamodb"),
        side_table(),
        ttl_seconds=settings.IDEMPOTENCY_TTL_SECONDS,
        lease_seconds=settings.IDEMPOTENCY_LEASE_SECONDS,
    )


def event_relay(
    *,
    checkpoints=None,
    start_at: str = "TRIM_HORIZON",
    progress_file: ProgressFile | None = None,
    figures: FiguresRefresher | None = None,
    refresh_seconds: float = 30.0,
) -> EventRelay:
    """The relay over the table's stream; ``relay_events`` passes ``relay_progress_file()``,
    which its readiness probe reads, and ``figures_refresher()``, told of every change.
    ``refresh_seconds``: how often it lists the stream's shards (tests: at every poll)."""
    return EventRelay(
        streams=client("dynamodbstreams"),
        stream_arn=stream_arn,
        publisher=SnsPublisher(
            client("sns"),
            topic_arn,
            fifo=settings.ORDERS_FIFO,
            concurrency=settings.EVENT_RELAY_PUBLISH_CONCURRENCY,
        ),
        checkpoints=checkpoints or DynamoCheckpoints(client("dynamodb"), side_table()),
        decode=order_repository().event_from_image,
        skip_key_prefix=RELAY_PREFIX,
        start_at=start_at,
        refresh_seconds=refresh_seconds,
        home_region=settings.AWS_REGION,
        group=settings.EVENT_RELAY_GROUP,
        groups=settings.EVENT_RELAY_GROUPS,
        batch_limit=settings.EVENT_RELAY_BATCH,
        stream_check_seconds=settings.EVENT_RELAY_STREAM_CHECK_SECONDS,
        timeout_backoff_seconds=settings.EVENT_RELAY_TIMEOUT_BACKOFF_SECONDS,
        feed=event_feed(),
        projections=[throughput(), *([figures] if figures else [])],
        progress_file=progress_file,
    )


def relay_progress_file() -> ProgressFile:
    """Where this relay (its table and group) records its progress for the readiness probe,
    which runs in another process of the same container and so finds the same file."""
    return ProgressFile.of_relay(
        settings.ORDERS_TABLE_NAME,
        settings.EVENT_RELAY_GROUP,
        path=settings.EVENT_RELAY_PROGRESS_FILE,
    )


def throughput() -> DynamoThroughput:
    return DynamoThroughput(client("dynamodb"), side_table())


def order_figures() -> FiguresReader:
    """The staff's figures as pages read them: the relay's, or counted for the page."""
    return FiguresReader(
        order_selector(),
        DynamoFigures(client("dynamodb"), side_table()),
        max_age=timedelta(seconds=settings.ADMIN_FIGURES_MAX_AGE_SECONDS),
    )


def figures_refresher() -> FiguresRefresher | None:
    """What keeps the staff's figures: the relay of group 0 runs it (None: switched off)."""
    if not settings.ADMIN_FIGURES_REFRESH_SECONDS or settings.EVENT_RELAY_GROUP != 0:
        return None
    selector = order_selector()
    return FiguresRefresher(
        lambda: count_figures(selector),
        DynamoFigures(client("dynamodb"), side_table()),
        every=settings.ADMIN_FIGURES_REFRESH_SECONDS,
        heartbeat=settings.ADMIN_FIGURES_HEARTBEAT_SECONDS,
    )


def event_feed() -> DynamoFeed:
    return DynamoFeed(
        client("dynamodb"),
        side_table(),
        cursor_secret=("feed:" + settings.SECRET_KEY).encode(),
        retention_seconds=int(settings.EVENT_FEED_RETENTION_DAYS * 86400),
        settle_seconds=settings.EVENT_FEED_SETTLE_SECONDS,
        fan_out=fan_out(),
    )


# -- facilities (the places orders point at: portal.places adapts each side) -----------------


def order_places() -> PlaceDirectory:
    """The sites and assets a new order may point at (``facilities.order_places``)."""
    from portal.places import FacilitiesPlaceDirectory

    return FacilitiesPlaceDirectory()


def site_usage() -> SiteUsage:
    """What else needs a site active, asked before it is archived: the orders still open at
    it (``portal.places``, over the orders' ``by-site`` index)."""
    from portal.places import OpenOrdersUseSites

    return OpenOrdersUseSites(order_selector())


def place_orders() -> PlaceOrders:
    """The orders at a site or an asset, for facilities' pages and their checks (an asset is
    not retired while open orders are on it)."""
    from portal.places import OrdersAtPlaces

    return OrdersAtPlaces(order_selector())


def place_name(kind: str, place_id: str) -> str | None:
    """A site or an asset as staff read it ("STORE-0012 · Store 12"), for the orders' admin
    (its list filtered by site or asset); ``None`` if there is none with this id."""
    from facilities.order_places import asset_place, site_place

    place = site_place(place_id) if kind == "site" else asset_place(place_id)
    return f"{place.code} · {place.name}" if place else None


def planned_work() -> PlannedWork:
    """The maintenance planned at a site or an asset, for facilities' pages and the asset's
    retirement check."""
    from maintenance.selectors import PlansAtPlaces

    return PlansAtPlaces()


# -- maintenance ---------------------------------------------------------------------------------


def plan_orders() -> OrderMaker:
    """The orders' side of the plans: an occurrence's order made by the orders' own intake."""
    from portal.plan_orders import PlanOrders

    return PlanOrders(order_services())


def plan_scheduler(*, grace: timedelta) -> Scheduler:
    from maintenance.scheduler import Scheduler

    return Scheduler(plan_orders(), grace=grace)


# -- operations and webhooks -------------------------------------------------------------------


def pipeline_health() -> PipelineHealth:
    from operations.selectors import PipelineHealth

    return PipelineHealth(
        queues=status_queues(), orders=order_selector(), figures=order_figures(), fan_out=fan_out()
    )


def webhook_dispatcher() -> Dispatcher:
    from webhooks.dispatch import Dispatcher, DispatchSettings

    return Dispatcher(
        DispatchSettings(
            schedule=tuple(settings.WEBHOOK_RETRY_SCHEDULE),
            timeout_seconds=settings.WEBHOOK_TIMEOUT_SECONDS,
            concurrency=settings.WEBHOOK_CONCURRENCY,
            endpoint_concurrency=settings.WEBHOOK_ENDPOINT_CONCURRENCY or None,
            allow_private_urls=settings.WEBHOOK_ALLOW_PRIVATE_URLS,
            retention=(
                timedelta(days=settings.WEBHOOK_RETENTION_DAYS)
                if settings.WEBHOOK_RETENTION_DAYS > 0
                else None
            ),
            prune_interval_seconds=settings.WEBHOOK_PRUNE_INTERVAL_SECONDS,
        )
    )


def reset() -> None:
    """Forget everything built (and the clients): the next call builds from current settings."""
    for cached in _built:
        cached.cache_clear()
    clients.reset()


def reset_on_setting_change(*, setting: str, **_) -> None:
    if setting.startswith(_RESET_ON):
        reset()

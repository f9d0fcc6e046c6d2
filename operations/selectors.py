"""The pipeline's health as staff see it (reads only; redrive is ``operations.services``):
per status, orders, queue depths and dead letters.

Reads only what SQS reports cheaply (queue attributes) and bounded DynamoDB queries. Peeking
at dead letters receives them with a zero visibility timeout, so they stay where they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws.queues import StatusQueues
from kernel.fan_out import SEQUENTIAL, FanOut
from orders.domain.model import Order
from orders.domain.workflow import (
    STATUSES,
    ActorKind,
    Status,
    StatusCategory,
    allowed_moves,
    category_of,
)
from orders.figures import FiguresReader
from orders.selectors import OrderSelector

#: Waiting orders the pipeline page lists.
BACKLOG_SHOWN = 20


@dataclass(frozen=True)
class StatusHealth:
    status: str
    orders: int
    orders_capped: bool
    visible: int
    in_flight: int
    dead_letters: int
    #: None where being "stuck" means nothing: statuses people move on (scheduled, started),
    #: paused (on hold) and done ones.
    stuck: int | None
    stuck_capped: bool
    #: How long the longest-waiting order has been in this status (None: no order).
    oldest_waiting: timedelta | None = None
    #: Age of the oldest dead letter (None: none).
    oldest_dead_letter: timedelta | None = None
    #: Age of the queue's oldest message, from CloudWatch (None: no datapoint, e.g. emulator).
    oldest_message: timedelta | None = None
    #: For ``accepted`` only: the orders waiting for a team, oldest first (at most
    #: BACKLOG_SHOWN). They wait there when every team of their category is full.
    backlog: tuple[Order, ...] | None = None

    @property
    def backlog_more(self) -> bool:
        """More orders wait than the page lists."""
        return self.backlog is not None and self.orders > len(self.backlog)


@dataclass(frozen=True)
class Dashboard:
    #: (status, orders, capped) in workflow order.
    by_status: list[tuple[str, int, bool]]
    #: (orders, capped): moving orders past their SLA, or due within DUE_SOON (breached too).
    breached: tuple[int, bool]
    due_soon: tuple[int, bool]
    #: (orders, capped) waiting for a team (in ``accepted``).
    unassigned: tuple[int, bool]
    #: Dead letters per status, only statuses that have some.
    dead_letters: dict[str, int]
    #: When the orders were counted: by the relay a few seconds ago, or for this page (live).
    counted_at: datetime | None = None
    counted_live: bool = False

    @property
    def dead_letters_total(self) -> int:
        return sum(self.dead_letters.values())


class PipelineHealth:
    """What the pipeline page reads: per status, orders (bounded DynamoDB queries) and queue
    depths (SQS attributes); the dead letters are read through ``StatusQueues``."""

    def __init__(
        self,
        *,
        queues: StatusQueues,
        orders: OrderSelector,
        figures: FiguresReader,
        fan_out: FanOut = SEQUENTIAL,
    ):
        self.queues = queues
        self.resources = queues.resources
        self.orders = orders
        #: The dashboard's counts of orders.
        self.figures = figures
        #: The statuses' rows (and the dashboard's counts) are read at once.
        self.fan_out = fan_out

    def health(self, *, stuck_after: timedelta, cap: int = 1000) -> list[StatusHealth]:
        """One row per status, the rows read at once (each row's reads one after another)."""
        changed_before = datetime.now(UTC) - stuck_after
        return self.fan_out.map(
            lambda status: self._status_health(status, changed_before=changed_before, cap=cap),
            STATUSES,
        )

    def _status_health(self, status: Status, *, changed_before: datetime, cap: int) -> StatusHealth:
        orders, capped = self.orders.count_in_status(status, cap=cap)
        moving = category_of(status) is StatusCategory.OPEN
        # Stuck means a worker should have moved it on by now: not a scheduled order waiting
        # days for its visit, nor one whose work has started (people move those).
        stuck, stuck_capped = (
            self.orders.count_stuck(status, changed_before=changed_before, cap=cap)
            if moving and allowed_moves(status, ActorKind.SYSTEM)
            else (None, False)
        )
        visible, in_flight = self.queues.depth(self.resources.queue_name(status))
        dead, _ = self.queues.depth(self.resources.dead_letter_queue_name(status))
        now = datetime.now(UTC)
        oldest = self.orders.oldest_in_status(status) if moving else None
        # SQS tells the age of a queue's oldest message only through CloudWatch; dead
        # letters can also be looked at (nobody consumes them), the live queues cannot.
        letters = self.queues.dead_letters(status, limit=50) if dead else []
        sent = [letter.sent_at for letter in letters if letter.sent_at]
        return StatusHealth(
            str(status),
            orders,
            capped,
            visible,
            in_flight,
            dead,
            stuck,
            stuck_capped,
            oldest_waiting=now - oldest.status_changed_at if oldest else None,
            oldest_dead_letter=now - min(sent) if sent else None,
            oldest_message=self.queues.oldest_message_age(self.resources.queue_name(status)),
            backlog=(
                tuple(self.orders.backlog(limit=BACKLOG_SHOWN))
                if status is Status.ACCEPTED
                else None
            ),
        )

    def dashboard(self) -> Dashboard:
        """The admin index's figures: the orders as counted by the relay a few seconds ago
        (or now, if it has not: ``orders.figures``), and one attribute read per dead-letter
        queue, at once."""

        def dead_letters(status: Status) -> Callable[[], tuple[int, int]]:
            return lambda: self.queues.depth(self.resources.dead_letter_queue_name(status))

        figures, depths = self.figures.figures_with([dead_letters(s) for s in STATUSES])
        dead = {str(s): found[0] for s, found in zip(STATUSES, depths, strict=True)}
        return Dashboard(
            by_status=[(status, *count) for status, count in figures.by_status.items()],
            breached=figures.breached,
            due_soon=figures.due_soon,
            unassigned=figures.by_status[str(Status.ACCEPTED)],
            dead_letters={status: n for status, n in dead.items() if n},
            counted_at=figures.counted_at,
            counted_live=figures.live,
        )

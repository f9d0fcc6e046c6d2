"""What order GET /v1/events guarantees (docs/events.md, "Catching up"): the order the changes
were stored in, so each order's events in version order, each event once. An event's ``time``
is when its change was decided, before it was stored: across orders it can run backwards by
as long as a write took (outside testing saw 18 inversions of up to 0.8 s in 161 events)."""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import rules
from orders.domain.errors import ConcurrencyConflict
from orders.domain.model import Actor
from orders.events.contract import to_message
from orders.repository.dynamodb import DynamoOrderRepository
from tests.integration.factories import new_order
from tests.support import wait_for

WRITERS = 6
NOTES_EACH = 5


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.EVENT_FEED_SETTLE_SECONDS = 0


def add_note(repo, order_id: str, text: str, now: datetime) -> None:
    """A note as the service adds it: on a fresh read, again if another write came first."""
    while True:
        order = repo.get(order_id)
        changed, event, note = rules.add_note(
            order, text, actor=Actor.integrator(order.integrator), author_name="A", now=now
        )
        try:
            repo.save_move(
                changed,
                to_message(event),
                expected_status=order.status,
                expected_version=order.version,
                adds=[note],
            )
            return
        except ConcurrencyConflict:
            continue


def read_feed(integrator: str) -> list[dict]:
    from portal.container import event_feed

    events, after = [], None
    while True:
        page = event_feed().page(integrator, after=after, limit=7)
        events += page.events
        if not page.events:
            return events
        after = page.cursor


def test_each_orders_events_are_in_version_order_whatever_their_times(aws, relay):
    repo = DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"s")
    integrator = f"feed-{uuid.uuid4().hex[:6]}"
    orders = []
    for _ in range(3):
        order, _, message = new_order(integrator=integrator)
        repo.add(order, message)
        orders.append(order)
    start = datetime.now(UTC)
    counter = iter(range(10_000))
    lock = threading.Lock()

    def writer(index: int) -> None:
        for n in range(NOTES_EACH):
            with lock:
                step = next(counter)
            # Times decided out of step with when the writes land: a slow writer's change
            # is stamped before a fast one's that is stored first.
            skew = timedelta(milliseconds=(-300 if index % 2 else 300) + step)
            add_note(repo, orders[(index + n) % 3].id, f"w{index} n{n}", start + skew)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    expected = 3 + WRITERS * NOTES_EACH

    def all_in_the_feed() -> list[dict] | None:
        # Racing writers cancel transactions, after which the emulator gives the table a new
        # stream: the relay follows it (docs/events.md), within a few polls.
        relay.poll()
        events = read_feed(integrator)
        return events if len(events) >= expected else None

    events = wait_for(all_in_the_feed, timeout=30, interval=0.2, what="every event in the feed")

    assert len(events) == expected
    assert len({e["id"] for e in events}) == len(events)  # each event once
    versions = defaultdict(list)
    for event in events:
        versions[event["subject"]].append(event["data"]["order"]["version"])
    for order in orders:
        seen = versions[order.id]
        assert seen == list(range(1, len(seen) + 1)), seen  # in version order, no gap
    times = [e["time"] for e in events]
    assert times != sorted(times)  # the feed is not in `time` order, as documented

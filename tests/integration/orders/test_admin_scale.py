"""List pages stay bounded in DynamoDB reads however many orders there are."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from kernel.clock import utcnow
from orders.domain import rules
from orders.domain.model import Actor
from orders.domain.rules import OrderInput
from orders.domain.sla import ALWAYS
from orders.domain.workflow import STATUSES
from orders.repository.dynamodb import DynamoOrderRepository
from orders.repository.items import order_to_item
from orders.repository.order_queries import MAX_READS_PER_PAGE
from orders.repository.sharding import CREATED_SHARDS, INDEX_SHARDS
from orders.selectors import OrderSelector

ORDERS = 2000
STATUS_COUNT = 8  # every status is counted


def test_a_list_page_over_thousands_of_orders_makes_a_bounded_number_of_reads(aws):
    table = aws.fresh_table("scale")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for i in range(ORDERS):
        order, _ = rules.create_order(
            OrderInput(title=f"Order {i}", category="hvac", site="Depot"),
            order_id=str(uuid.uuid4()),
            integrator="big",
            actor=Actor.integrator("big"),
            now=start + timedelta(seconds=i),
        )
        items.append({"PutRequest": {"Item": order_to_item(order)}})
    for chunk in range(0, len(items), 25):
        aws.dynamodb.batch_write_item(RequestItems={table: items[chunk : chunk + 25]})

    calls: Counter = Counter()
    aws.dynamodb.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.update([model.name])
    )
    repo = DynamoOrderRepository(aws.dynamodb, table, cursor_secret=b"s")
    read = OrderSelector(orders=repo, calendar=lambda team: ALWAYS, clock=utcnow)

    first = read.list_orders(limit=50)
    second = read.list_orders(limit=50, cursor=first.next_cursor)
    counts = {str(s): read.count_in_status(s, cap=1000) for s in STATUSES}

    assert [o.title for o in first.items][:2] == [f"Order {ORDERS - 1}", f"Order {ORDERS - 2}"]
    assert second.items[0].title == f"Order {ORDERS - 51}"
    # Two pages: at most one bounded query series per shard each, and one count per shard of
    # each status, whatever the table holds.
    assert calls["Query"] <= 2 * CREATED_SHARDS * MAX_READS_PER_PAGE + STATUS_COUNT * INDEX_SHARDS
    assert calls["BatchGetItem"] <= 2 * MAX_READS_PER_PAGE
    assert "Scan" not in calls
    assert counts["received"] == (1000, True)  # shown as "1000+": never counts the whole table
    assert counts["completed"] == (0, False)

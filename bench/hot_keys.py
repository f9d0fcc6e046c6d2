"""The busiest partition keys at 10,000 orders/s: one simulated second of a realistic mix.

    .venv/bin/python bench/hot_keys.py [--orders-per-second 10000]

DynamoDB serves at most 1,000 WCU/s and 3,000 RCU/s per partition, and every item of one
partition key (of the table or of an index) lives in one partition. This asks the portal's own
code for the keys one second of traffic writes and reads, with their sizes — the table's
indexes from ``table_definition`` and the items from ``order_to_item``; the feed, search,
throughput, team and backlog keys from their modules — and adds up the units per key:

- 10,000 orders created per second, one integrator sending 40 % of them and 300 others the
  rest; categories 35 % HVAC, 25 % electrical, 25 % plumbing, 15 % general; the usual life
  after that (95 % accepted and scheduled, half get a note, 93 % started, 90 % completed);
- each change is one event: a write of the order (and of each index whose key it carries: an
  index key that changes is a delete under the old key and a put under the new) and a feed
  item; the relay's throughput counts, written once a second per stream shard;
- the reads each change makes: the worker's read of the order, the
  team loads the scheduler weighs (``considered_teams`` of ``TEAMS_PER_CATEGORY``) and the
  release reads; each worker process's reading of the backlog markers (once a second).

Consumed units follow DynamoDB's rules: a write is 1 WCU per KB (rounded up) of the item (an
index: of what it projects), a strongly consistent read 1 RCU per 4 KB, an eventually
consistent one half that.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: DynamoDB's per-partition throughput.
PARTITION_WCU = 1000
PARTITION_RCU = 3000
BIG_INTEGRATOR_SHARE = 0.40
OTHER_INTEGRATORS = 300
CATEGORIES = {"hvac": 0.35, "electrical": 0.25, "plumbing": 0.25, "general": 0.15}
#: Teams serving each category at this rate (orders stay open for hours: many teams).
TEAMS_PER_CATEGORY = 200
#: Status worker processes per queue at this rate (docs/capacity.md sizes them).
WORKER_PROCESSES = 200
#: Of the orders created, the share that reaches each step.
LIFE = (
    ("accepted", 0.95),
    ("scheduled", 0.95),
    ("note", 0.5),
    ("in_progress", 0.93),
    ("completed", 0.90),
)
TITLES = (
    "Replace HVAC filter",
    "Leaking tap in staff kitchen",
    "No power in aisle 4",
    "Broken door closer at the back entrance",
    "Water heater not heating",
    "Light fixture flickering in the lobby",
    "Air conditioning too loud",
    "Blocked drain in customer toilets",
    "Roof leak above the storeroom",
    "Replace emergency exit sign battery",
    "Freezer alarm keeps sounding",
    "Car park barrier stuck open",
)
STREETS = ("5th Ave", "Main St", "High Street", "Calle Mayor", "Rue de Rivoli", "Harbour Rd")


@dataclass(frozen=True)
class HotKeys:
    writes: Counter  # (table or index, partition key) -> WCU in the simulated second
    reads: Counter
    stream_shards: int = 0
    events: int = 0

    @property
    def hottest_write(self) -> str:
        return _busiest(self.writes)[0]

    @property
    def hottest_wcu(self) -> float:
        return _busiest(self.writes)[1]

    @property
    def hottest_read(self) -> str:
        return _busiest(self.reads)[0]

    @property
    def hottest_rcu(self) -> float:
        return _busiest(self.reads)[1]


def _busiest(units: Counter) -> tuple[str, float]:
    """The key with the most units ("<table or index> <key>") and its units."""
    (where, key), most = units.most_common(1)[0]
    return f"{where} {key}", most


def _units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


def simulate(orders_per_second: int = 10_000, *, seed: int = 20) -> HotKeys:
    """One second of ``orders_per_second`` new orders and the usual changes of as many."""
    from bench.cost import item_size
    from orders.domain import rules
    from orders.domain.model import Actor
    from orders.domain.rules import OrderInput, considered_teams
    from orders.domain.workflow import Status
    from orders.events.contract import to_message
    from orders.repository import feed, items, search_index, stats, table_design

    rng = random.Random(seed)
    definition = table_design.table_definition("orders")
    indexes = [
        (
            index["IndexName"],
            index["KeySchema"][0]["AttributeName"],
            set(index["Projection"].get("NonKeyAttributes", ()))
            | {k["AttributeName"] for k in index["KeySchema"]},
        )
        for index in definition["GlobalSecondaryIndexes"]
    ]
    writes: Counter = Counter()
    reads: Counter = Counter()
    events = 0
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    worker = Actor.system("worker")
    staff = Actor.staff("dispatcher")

    def write_order(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        size = max(item_size(after), item_size(before) if before else 0)
        writes[("table", after["pk"]["S"])] += _units(size, 1024)
        for name, key_name, projected in indexes:
            old = before.get(key_name, {}).get("S") if before else None
            new = after.get(key_name, {}).get("S")
            if before is not None and all(before.get(k) == after.get(k) for k in projected):
                continue  # nothing the index holds changed: DynamoDB does not write it
            if old is not None and old != new:
                size = item_size({k: v for k, v in before.items() if k in projected})
                writes[(name, old)] += _units(size, 1024)
            if new is not None:
                size = item_size({k: v for k, v in after.items() if k in projected})
                writes[(name, new)] += _units(size, 1024)

    def publish(message: Any) -> None:
        nonlocal events
        events += 1
        item = feed.feed_item(message, position=10**15 + events, expires="1800000000")
        writes[("table", item["pk"]["S"])] += _units(item_size(item), 1024)

    def change(order: Any, to: str) -> Any:
        before = items.order_to_item(order)
        team = rng.choice(considered_teams(order.id, _teams(order.category)))
        moved, event = rules.move(
            order,
            to,
            actor=worker if to in ("accepted", "scheduled") else staff,
            now=now,
            team=team if to == "scheduled" else None,
        )
        write_order(before, items.order_to_item(moved))
        reads[("table", table_design.ORDER_PREFIX + order.id)] += 1
        publish(to_message(event))
        return moved

    categories, weights = zip(*CATEGORIES.items(), strict=True)
    for n in range(orders_per_second):
        integrator = (
            "big-integrator"
            if rng.random() < BIG_INTEGRATOR_SHARE
            else f"integrator-{rng.randrange(OTHER_INTEGRATORS)}"
        )
        category = rng.choices(categories, weights)[0]
        data = OrderInput(
            title=rng.choice(TITLES),
            category=category,
            priority=rng.choice(("low", "normal", "normal", "high", "urgent")),
            site=f"Store {rng.randrange(1, 5000)}, {rng.choice(STREETS)}",
            external_reference=f"WO-{rng.randrange(10**9)}",
            description="Reported by the store manager; access through the loading bay.",
        )
        order, event = rules.create_order(
            data,
            order_id=f"{n:08d}-{rng.getrandbits(64):016x}",
            integrator=integrator,
            actor=Actor.integrator(integrator),
            now=now - timedelta(microseconds=n),
        )
        write_order(None, items.order_to_item(order))
        for item in search_index.search_items(order, written_at=now):
            writes[("table", item["pk"]["S"])] += _units(item_size(item), 1024)
        publish(to_message(event))
        for step, share in LIFE:
            if rng.random() > share:
                break
            if step == "note":
                continue  # a note is an event of the scheduled order, below
            if step == "accepted":
                order = change(order, "accepted")
                continue
            if step == "scheduled":
                # The scheduler weighs a few teams (its category's backlog marker is read
                # once a second per worker process, below).
                for team in considered_teams(order.id, _teams(category)):
                    reads[("table", table_design.TEAM_PREFIX + team)] += 1
                order = change(order, "scheduled")
                if rng.random() < 0.5:
                    before = items.order_to_item(order)
                    order, event, _ = rules.add_note(
                        order,
                        "Gate code 4411",
                        actor=Actor.integrator(integrator),
                        author_name=integrator,
                        now=now,
                    )
                    write_order(before, items.order_to_item(order))
                    publish(to_message(event))
                continue
            order = change(order, Status(step))
            if step == "completed":
                # The release reads the order's team and those it was weighed for.
                released = {*considered_teams(order.id, _teams(category)), order.assigned_team}
                for team in released:
                    reads[("table", table_design.TEAM_PREFIX + team)] += 1
    # Each worker process reads each category's backlog marker once a second at most, on
    # the way in (accepted) and when capacity is freed (completed).
    for category in CATEGORIES:
        reads[("table", table_design.BACKLOG_PREFIX + category)] += 2 * WORKER_PROCESSES
    # The relay writes its counts when it saves its place: once a second per stream shard (a
    # stream has about a shard per table partition, each taking up to 1,000 WCU/s).
    order_wcu = sum(units for (where, key), units in writes.items() if key.startswith("ORDER#"))
    stream_shards = math.ceil(order_wcu / PARTITION_WCU)
    writes[("table", stats.PK)] += stream_shards
    return HotKeys(writes=writes, reads=reads, stream_shards=stream_shards, events=events)


def _teams(category: str) -> list[str]:
    return [f"{category}-{i}" for i in range(TEAMS_PER_CATEGORY)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders-per-second", type=int, default=10_000)
    args = parser.parse_args()
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    hot = simulate(args.orders_per_second)
    print(
        f"Simulated second: {args.orders_per_second} orders created, {hot.events} events, "
        f"{sum(hot.writes.values()):.0f} WCU, {sum(hot.reads.values()):.0f} RCU, "
        f"about {hot.stream_shards} stream shards"
    )
    print(f"\nBusiest keys written (limit {PARTITION_WCU} WCU/s per partition)")
    for (where, key), units in hot.writes.most_common(8):
        print(f"  {where:<16} {key:<48} {units:>8.0f}")
    print(f"\nBusiest keys read (limit {PARTITION_RCU} RCU/s per partition)")
    for (where, key), units in hot.reads.most_common(8):
        print(f"  {where:<16} {key:<48} {units:>8.0f}")


if __name__ == "__main__":
    main()

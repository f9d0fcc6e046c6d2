"""What one order costs in DynamoDB: capacity units per step and per item kind, the items and
bytes it leaves stored, the stream records per change, and the AWS calls.

    .venv/bin/python bench/cost.py            # or: make bench-cost
    .venv/bin/python bench/cost.py --orders 5

A fresh DynamoDB Local (AWS's own engine: it meters capacity as DynamoDB does, transactions
at twice the price and an index whose key changes as a delete and a put) serves DynamoDB; moto
serves SNS and SQS. Each order lives its usual life, every step through the code that runs it
in production, in this process:

- created through the API (``POST /v1/orders`` with an ``Idempotency-Key``), with a webhook
  endpoint subscribed to the integrator's events;
- the event relay publishes each change (``EventRelay.poll``: stream → SNS, feed, counts);
- the status workers' task (``workers.tasks.handle_delivery``) takes each event off its SQS
  queue: received → accepted → scheduled;
- the integrator adds a note through the API; staff start the work and complete it.

Every DynamoDB call is made with ``ReturnConsumedCapacity=INDEXES`` (added by a botocore hook,
so the code measured is the code that runs). SQS calls are the portal's plus, for the status
workers (kombu's, deployed), one receive per batch of messages and one delete per message:
the bench's own polling loop is not counted. A call's units go to the kinds of the items it
writes or reads, in proportion to their size where a batch or a transaction mixes kinds. The
relay's checkpoint (one write per shard per second, whatever the traffic) is shown apart and
left out of the per-order figures. The last line is one JSON object; ``hottest_key_*`` come
from ``bench/hot_keys.py``'s simulation of 10,000 orders/s on the same key design.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.create import EXAMPLE, stack_environment  # noqa: E402
from tests.support import AwsStack, Processes, emulators, wait_for  # noqa: E402

#: Item kinds, by the start of the partition key (and, in an order's partition, the sort key).
KINDS = (
    ("IDEMPOTENCY#", "idempotency record"),
    ("FEED#", "feed item"),
    ("SEARCH#", "search entry"),
    ("STATS#", "throughput count"),
    ("RELAY#", "relay checkpoint"),
    ("TEAM#", "team load"),
    ("BACKLOG#", "backlog marker"),
)
#: Not per order: the relay saves its place per shard on a clock, whatever the traffic.
NOT_PER_ORDER = {"relay checkpoint"}


def kind_of(key: dict[str, Any]) -> str:
    pk = key.get("pk", {}).get("S", "")
    sk = key.get("sk", {}).get("S", "")
    if pk.startswith("ORDER#"):
        if sk.startswith("NOTE#"):
            return "note"
        if sk.startswith("ATTACHMENT#"):
            return "attachment"
        return "order"
    for prefix, kind in KINDS:
        if pk.startswith(prefix):
            return kind
    return f"other ({pk.split('#')[0]})"


def attribute_size(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it (docs: "Item sizes and formats")."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return 1 + math.ceil(len(digits) / 2)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in inner.items())
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None) -> int:
    """The weight of an item written in a mixed call: its write units if known, else 1."""
    return max(1, math.ceil(item_size(item) / 1024)) if item else 1


class Meter:
    """Capacity, items and calls, gathered by botocore hooks on the portal's own clients."""

    def __init__(self) -> None:
        self.step = "setup"
        self.wcu: dict[str, Counter] = defaultdict(Counter)  # step -> kind -> units
        self.rcu: dict[str, Counter] = defaultdict(Counter)
        self.where: dict[str, Counter] = defaultdict(Counter)  # step -> table/index -> WCU
        self.calls: dict[str, Counter] = defaultdict(Counter)  # step -> service.operation
        self._lock = threading.Lock()

    def watch(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"provide-client-params.{service}.*", self._before)
        client.meta.events.register(f"after-call.{service}.*", self._after)

    def _before(self, params: dict[str, Any], model: Any, context: dict, **_: Any) -> None:
        if "ReturnConsumedCapacity" in getattr(model.input_shape, "members", {}):
            params.setdefault("ReturnConsumedCapacity", "INDEXES")
        context["bench_params"] = dict(params)

    def _after(self, model: Any, parsed: dict[str, Any], context: dict, **_: Any) -> None:
        service = model.service_model.service_name
        with self._lock:
            self.calls[self.step][f"{service}.{model.name}"] += 1
            if service != "dynamodb":
                return
            params = context.get("bench_params", {})
            consumed = parsed.get("ConsumedCapacity")
            if consumed is None:
                return
            for capacity in consumed if isinstance(consumed, list) else [consumed]:
                self._charge(model.name, params, capacity)

    def _charge(self, operation: str, params: dict[str, Any], capacity: dict[str, Any]) -> None:
        table = capacity["TableName"]
        units = capacity.get("CapacityUnits", 0.0)
        writes = operation in (
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "TransactWriteItems",
        )
        weights = Counter()
        for key, item in _touched(operation, params, table):
            weights[kind_of(key)] += write_units(item) if writes else 1
        if not weights:
            weights["index query" if params.get("IndexName") else "other"] = 1
        total = sum(weights.values())
        ledger = self.wcu if writes else self.rcu
        for kind, weight in weights.items():
            ledger[self.step][kind] += units * weight / total
        if writes:
            self.where[self.step][f"{table} (table)"] += capacity.get("Table", {}).get(
                "CapacityUnits", 0.0
            )
            for index, used in capacity.get("GlobalSecondaryIndexes", {}).items():
                self.where[self.step][f"{table} {index}"] += used["CapacityUnits"]


def _touched(
    operation: str, params: dict[str, Any], table: str
) -> Iterable[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(key, item if the call holds it whole) of every item a call on ``table`` touches."""
    if operation == "PutItem":
        yield params["Item"], params["Item"]
    elif operation in ("UpdateItem", "DeleteItem", "GetItem"):
        yield params["Key"], None
    elif operation == "Query":
        values = params.get("ExpressionAttributeValues", {})
        pk = values.get(":pk")
        if pk is not None and not params.get("IndexName"):
            yield {"pk": pk}, None
    elif operation == "BatchWriteItem":
        for request in params["RequestItems"].get(table, []):
            if "PutRequest" in request:
                yield request["PutRequest"]["Item"], request["PutRequest"]["Item"]
            else:
                yield request["DeleteRequest"]["Key"], None
    elif operation == "BatchGetItem":
        for key in params["RequestItems"].get(table, {}).get("Keys", []):
            yield key, None
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        for entry in params["TransactItems"]:
            ((_, action),) = entry.items()
            if action.get("TableName") != table:
                continue
            if "Item" in action:
                yield action["Item"], action["Item"]
            else:
                yield action["Key"], None


def tables() -> list[str]:
    """The portal's DynamoDB tables (as its settings name them)."""
    from portal import container

    return [container.resources().table, container.resources().side_table]


def stored_items(client: Any, tables: Iterable[str]) -> dict[str, Counter]:
    """Items and bytes of each kind left in the tables (a Scan: the bench's, never the app's)."""
    items: Counter = Counter()
    size: Counter = Counter()
    for table in tables:
        for page in client.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                items[kind_of(item)] += 1
                size[kind_of(item)] += item_size(item)
    return {"items": items, "bytes": size}


def stream_records(streams: Any, stream_arn: str) -> Counter:
    """Records on a table's stream, by the kind of the item each one is about."""
    records: Counter = Counter()
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in response["Records"]:
                records[kind_of(record["dynamodb"]["Keys"])] += 1
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=3, help="orders measured (averaged)")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    processes = Processes()
    engines = None
    try:
        os.environ["TEST_DYNAMODB"] = os.environ.get("BENCH_DYNAMODB", "local")
        engines = emulators(processes)
        where = engines.__enter__()
        prefix = f"cost-{uuid.uuid4().hex[:6]}"
        AwsStack.provision(where, prefix)
        os.environ.update(
            stack_environment(
                where,
                prefix,
                WEBHOOK_ALLOW_PRIVATE_URLS="true",
                # One checkpoint per second per shard, as deployed; not per order.
                EVENT_RELAY_CHECKPOINT_SECONDS="1",
            )
        )
        import boto3
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from integrators.services import create_integrator, issue_key
        from orders.domain.model import Actor
        from orders.domain.workflow import STATUSES
        from orders.models import Team
        from portal import container
        from webhooks.endpoints import create_endpoint
        from workers.tasks import handle_delivery

        call_command("migrate", verbosity=0)
        integrator, _ = create_integrator("Cost", slug="cost")
        _, api_key = issue_key(integrator, label="cost")
        create_endpoint(integrator, url="http://127.0.0.1:9/hooks")
        Team.objects.update_or_create(
            code="hvac-crew", defaults={"name": "HVAC", "categories": ["hvac"], "capacity": 100}
        )
        queues = container.status_queues()
        urls = {status: queues.queue_url(status) for status in STATUSES}
        # The workers' own receives and deletes (kombu's, deployed) are counted by hand below:
        # a polling loop's empty receives are the bench's, not the order's.
        sqs = boto3.client("sqs", endpoint_url=where.aws, region_name="us-east-1")
        meter = Meter()
        for service in ("dynamodb", "dynamodbstreams", "sns", "sqs"):
            meter.watch(container.client(service))
        relay = container.event_relay()
        service = container.order_services()
        api = Client(SERVER_NAME="localhost", headers={"Authorization": f"Bearer {api_key}"})
        staff = Actor.staff("cost-bench")
        print(f"DynamoDB: {where.engine}; SNS, SQS: moto {where.aws}; prefix {prefix}\n")

        def settle(expect: int) -> None:
            """The relay publishes; the status workers take what reaches their queues."""
            handled = 0

            def progress() -> bool:
                nonlocal handled
                relay.poll()
                for status, url in urls.items():
                    response = sqs.receive_message(
                        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
                    )
                    if response.get("Messages"):
                        meter.calls[meter.step]["sqs.ReceiveMessage"] += 1
                    for message in response.get("Messages", []):
                        delivery = {
                            "queue": url.rsplit("/", 1)[-1],
                            "receive_count": 1,
                            "message_id": message["MessageId"],
                        }
                        handle_delivery(str(status), message["Body"], delivery)
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                        meter.calls[meter.step]["sqs.DeleteMessage"] += 1
                        handled += 1
                return handled >= expect

            wait_for(progress, timeout=30, interval=0.0, what=f"{expect} events handled")

        def step(name: str, action, events: int) -> Any:
            meter.step = name
            result = action()
            settle(events)
            return result

        def one_order(n: int) -> str:
            def create() -> str:
                response = api.post(
                    "/v1/orders",
                    data=EXAMPLE | {"external_reference": f"cost-{n}-{uuid.uuid4().hex[:6]}"},
                    content_type="application/json",
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert response.status_code == 201, response.content
                return response.json()["id"]

            # created, then the received and accepted workers move it on by themselves
            order_id = step("1 create -> accepted -> scheduled", create, events=3)
            wait_for(lambda: service.changes.store.get(order_id).status == "scheduled", timeout=10)

            def note() -> None:
                response = api.post(
                    f"/v1/orders/{order_id}/notes",
                    data={"text": "Gate code 4411; the unit is on the roof."},
                    content_type="application/json",
                )
                assert response.status_code == 201, response.content

            step("2 note (integrator)", note, events=1)
            for name, to in (
                ("3 start work (staff)", "in_progress"),
                ("4 complete (staff)", "completed"),
            ):
                step(
                    name,
                    lambda to=to: service.intake.transition_order(
                        order_id=order_id, to=to, actor=staff
                    ),
                    events=1,
                )
            return order_id

        orders = [one_order(n) for n in range(args.orders)]
        meter.step = "checkpoint"
        time.sleep(1.1)  # the relay saves its place on its one-second clock
        relay.poll()
        relay.checkpoint()
        meter.step = "read back"
        stored = stored_items(container.client("dynamodb"), tables())
        records = stream_records(container.client("dynamodbstreams"), container.stream_arn())
        changes = sum(len(service.changes.store.history(order_id)) for order_id in orders)
        report(meter, stored, records, changes=changes, orders=len(orders))
    finally:
        processes.stop_all()
        if engines is not None:
            engines.__exit__(None, None, None)


def report(
    meter: Meter, stored: dict[str, Counter], records: Counter, *, changes: int, orders: int
) -> None:
    from bench import hot_keys

    steps = [s for s in meter.wcu.keys() | meter.rcu.keys() if s[0].isdigit()]
    steps.sort()
    print(f"Per order ({orders} orders averaged), step by step")
    print(f"  {'step':<36}{'WCU':>8}{'RCU':>8}  AWS calls")
    wcu_total = rcu_total = 0.0
    for name in steps:
        wcu = sum(v for k, v in meter.wcu[name].items() if k not in NOT_PER_ORDER) / orders
        rcu = sum(meter.rcu[name].values()) / orders
        wcu_total += wcu
        rcu_total += rcu
        calls = Counter()
        for op, n in meter.calls[name].items():
            calls[op.split(".")[0]] += n
        print(
            f"  {name:<36}{wcu:>8.1f}{rcu:>8.1f}  "
            + ", ".join(f"{svc} {n / orders:.1f}" for svc, n in sorted(calls.items()))
        )
    print(f"  {'whole life':<36}{wcu_total:>8.1f}{rcu_total:>8.1f}")

    def whole_life(ledger: dict[str, Counter]) -> Counter:
        return sum((ledger[name] for name in steps), Counter())

    kinds, reads = whole_life(meter.wcu), whole_life(meter.rcu)
    print("\nPer order, by item kind")
    print(f"  {'kind':<22}{'WCU':>8}{'RCU':>8}{'items':>8}{'bytes':>9}{'stream':>8}")
    for kind in sorted(kinds.keys() | reads.keys() | stored["items"].keys() | records.keys()):
        print(
            f"  {kind:<22}{kinds[kind] / orders:>8.1f}{reads[kind] / orders:>8.1f}"
            f"{stored['items'][kind] / orders:>8.1f}{stored['bytes'][kind] / orders:>9.0f}"
            f"{records[kind] / orders:>8.1f}"
        )
    print("\nWCU per order, by table and index")
    for place, units in sorted(whole_life(meter.where).items()):
        print(f"  {place:<48}{units / orders:>8.1f}")
    calls = whole_life(meter.calls)
    print("\nAWS calls per order")
    for op, n in sorted(calls.items()):
        print(f"  {op:<48}{n / orders:>8.1f}")
    saves = sum(meter.wcu[name]["relay checkpoint"] for name in list(meter.wcu))
    print(
        f"\nRelay checkpoints: {saves:.1f} WCU in the whole run (a 1-WCU write per stream shard"
        " and second at most, whatever the traffic: not counted per order)"
    )

    items_per_order = (
        sum(n for kind, n in stored["items"].items() if kind not in NOT_PER_ORDER) / orders
    )
    hot = hot_keys.simulate()
    print(
        f"\nStream: {sum(records.values())} records for {changes} order changes; "
        f"hottest key at 10,000 orders/s: {hot.hottest_write} "
        f"({hot.hottest_wcu:.0f} WCU/s), reads {hot.hottest_read} ({hot.hottest_rcu:.0f} RCU/s)"
    )
    print(
        json.dumps(
            {
                "wcu_per_order": round(wcu_total, 1),
                "rcu_per_order": round(rcu_total, 1),
                "items_per_order": round(items_per_order, 1),
                "bytes_per_order": round(
                    sum(b for k, b in stored["bytes"].items() if k not in NOT_PER_ORDER) / orders
                ),
                "stream_records_per_change": round(sum(records.values()) / changes, 2),
                "hottest_key_wcu_per_s_at_10k": round(hot.hottest_wcu),
                "hottest_key_rcu_per_s_at_10k": round(hot.hottest_rcu),
                "dynamodb_calls_per_order": round(
                    sum(n for op, n in calls.items() if op.startswith("dynamodb.")) / orders, 1
                ),
                "sns_calls_per_order": round(
                    sum(n for op, n in calls.items() if op.startswith("sns.")) / orders, 1
                ),
                "sqs_calls_per_order": round(
                    sum(n for op, n in calls.items() if op.startswith("sqs.")) / orders, 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()

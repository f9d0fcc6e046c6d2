"""Create-order benchmark: the portal against the seed-equivalent baseline, side by side.

    make bench                     # or: .venv/bin/python bench/create.py --orders 200

Everything runs on this machine against a fresh engine per run: AWS's DynamoDB Local for
DynamoDB (``BENCH_DYNAMODB=moto`` for moto's) and a moto server for SNS and SQS. The portal's
service layer and HTTP API, and ``bench/baseline.py`` (one PutItem + one Publish, what the
original request Lambda did) in the same process and behind the same gunicorn settings. The
portal's event relay runs in this process too, so its work is counted. Rounds alternate
between the two so that machine noise hits both alike; medians of the rounds are reported.
"Published" figures count a round as done only when every order's event has reached its SQS
queue. Then real Celery workers are started and the time from ``201 Created`` to
``scheduled`` is measured, and the resident memory of the web and worker processes is read
from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import (  # noqa: E402 - after the path is set
    AwsStack,
    Processes,
    emulators,
    free_port,
    wait_for,
    wait_for_port,
)

EXAMPLE = {
    "title": "Replace HVAC filter",
    "category": "hvac",
    "priority": "high",
    "site": "Store 12, 5th Ave",
}
WARM_UP = 20


def stack_environment(where, prefix: str, **extra: str) -> dict[str, str]:
    """The environment that points the portal's processes at a bench's engines (``where``,
    from ``tests.support.emulators``) and its resources, with a SQLite database of its own.
    API throttling is off: it is not what the benchmarks measure."""
    state = ROOT / ".state"
    state.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "AWS_ENDPOINT_URL": where.aws,
        "AWS_ENDPOINT_URL_DYNAMODB": where.dynamodb,
        "AWS_REGION": "us-east-1",
        "ORDERS_RESOURCE_PREFIX": prefix,
        "DATABASE_URL": f"sqlite:///{state / prefix}.sqlite3",
        "PYTHONUNBUFFERED": "1",
        "API_RATE_LIMIT": "1000000/minute",
        **extra,
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def run_load(call: Callable[[int], None], *, orders: int, concurrency: int) -> dict:
    """``orders`` calls spread over ``concurrency`` threads: throughput and latencies (ms)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        started = time.perf_counter()
        call(i)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(orders)))
    wall = time.perf_counter() - started
    return {
        "throughput": orders / wall,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
    }


class Harness:
    def __init__(self, stack: AwsStack, *, orders: int, concurrency: int, rounds: int):
        self.stack = stack
        self.round = 0
        self.orders, self.concurrency, self.rounds = orders, concurrency, rounds

    def published_round(self, call: Callable, orders: int) -> dict:
        """A load round that ends when all its events have reached an SQS queue: a fresh one
        per round, subscribed like the received queue, so counting stays cheap."""
        self.round += 1
        tap = self.stack.sqs.create_queue(
            QueueName=f"{self.stack.resources.prefix}-tap{self.round}"
        )
        arn = self.stack.sqs.get_queue_attributes(
            QueueUrl=tap["QueueUrl"], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        subscription = self.stack.sns.subscribe(
            TopicArn=self.stack.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true", "FilterPolicy": '{"status": ["received"]}'},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        try:
            started = time.perf_counter()
            result = run_load(call, orders=orders, concurrency=self.concurrency)
            wait_for(
                lambda: self.stack.depth(tap["QueueUrl"])[0] >= orders,
                timeout=120,
                interval=0.02,
                what=f"{orders} events on the queue",
            )
            result["published"] = orders / (time.perf_counter() - started)
        finally:
            self.stack.sns.unsubscribe(SubscriptionArn=subscription)
            self.stack.sqs.delete_queue(QueueUrl=tap["QueueUrl"])
        return result

    def side_by_side(self, name: str, ours: Callable, baseline: Callable) -> dict:
        contenders = (("portal", ours), ("baseline", baseline))
        for _, call in contenders:
            self.published_round(call, WARM_UP)
        results: dict[str, list[dict]] = {"portal": [], "baseline": []}
        for _ in range(self.rounds):
            for who, call in contenders:
                results[who].append(self.published_round(call, self.orders))
        keys = ("throughput", "published", "p50", "p95")
        summary: dict = {
            who: {k: statistics.median(r[k] for r in runs) for k in keys}
            for who, runs in results.items()
        }
        for key in ("throughput", "published"):
            summary[f"{key}_ratio"] = summary["portal"][key] / summary["baseline"][key]
        print(
            f"\n{name} ({self.rounds} alternating rounds of {self.orders} orders, "
            f"{self.concurrency} at a time)"
        )
        print(f"  {'':10} {'created/s':>10} {'published/s':>12} {'p50 ms':>8} {'p95 ms':>8}")
        for who in ("portal", "baseline"):
            s = summary[who]
            print(
                f"  {who:10} {s['throughput']:10.1f} {s['published']:12.1f}"
                f" {s['p50']:8.1f} {s['p95']:8.1f}"
            )
        print(
            f"  portal/baseline: created {summary['throughput_ratio']:.2f}x, "
            f"published {summary['published_ratio']:.2f}x"
        )
        return summary


def milliseconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() * 1000


def count_calls(clients: list) -> Counter:
    counter: Counter = Counter()

    def hook(model, **kwargs):
        counter[f"{model.service_model.service_name}.{model.name}"] += 1

    for client in clients:
        client.meta.events.register("before-call.*.*", hook)
    return counter


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pipeline-orders", type=int, default=40)
    args = parser.parse_args()

    # The emulator accepts any credentials; these never leave the machine.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    processes = Processes()
    relay_stop = threading.Event()
    engines = None
    try:
        # A fresh engine for each run: DynamoDB Local slows as its database grows.
        os.environ["TEST_DYNAMODB"] = os.environ.get("BENCH_DYNAMODB", "local")
        engines = emulators(processes)
        where = engines.__enter__()
        endpoint = where.aws
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        stack = AwsStack.provision(where, prefix)
        env = stack_environment(
            where,
            prefix,
            BASELINE_TABLE=stack.resources.table,
            BASELINE_TOPIC_ARN=stack.topic_arn,
        )
        os.environ.update(env)

        import django

        django.setup()
        import requests
        from django.core.management import call_command

        from bench import baseline
        from orders.domain.model import Actor
        from orders.domain.rules import OrderInput
        from orders.models import Team
        from portal import container
        from portal.container import event_relay, order_services

        call_command("migrate", verbosity=0)
        from integrators.services import create_integrator, issue_key

        bench_integrator, _ = create_integrator("Bench", slug="bench")
        _, api_key = issue_key(bench_integrator, label="bench")
        for category in ("hvac", "electrical", "plumbing", "general"):
            Team.objects.update_or_create(
                code=f"{category}-crew",
                defaults={"name": category, "categories": [category], "capacity": 100_000},
            )
        print(f"DynamoDB: {where.engine}; SNS, SQS: moto {endpoint}; resources prefixed {prefix}")

        # The portal's publisher, in this process so that its cost is counted with ours.
        relay_thread = threading.Thread(
            target=event_relay().run,
            args=(relay_stop,),
            kwargs={"idle_seconds": 0.01},
            daemon=True,
        )
        relay_thread.start()
        service = order_services()
        actor = Actor.integrator("bench")
        base_dynamodb, base_sns = baseline.clients()
        ours_calls = count_calls(
            [container.client(name) for name in ("dynamodb", "sns", "dynamodbstreams")]
        )
        base_calls = count_calls([base_dynamodb, base_sns])
        harness = Harness(
            stack, orders=args.orders, concurrency=args.concurrency, rounds=args.rounds
        )

        def ours_service(i: int) -> None:
            service.intake.create_order(data=OrderInput(**EXAMPLE), integrator="bench", actor=actor)

        def baseline_service(i: int) -> None:
            baseline.create(
                base_dynamodb,
                base_sns,
                table=stack.resources.table,
                topic_arn=stack.topic_arn,
                body=EXAMPLE,
            )

        ours_calls.clear()
        service_summary = harness.side_by_side(
            "Service layer, in process", ours_service, baseline_service
        )
        created = args.orders * args.rounds + WARM_UP
        for who, calls in (("portal", ours_calls), ("baseline", base_calls)):
            print(
                f"  AWS calls per order, {who}: {sum(calls.values()) / created:.2f} "
                + ", ".join(f"{name} {n}" for name, n in sorted(calls.items()))
            )

        web_port, base_port = free_port(), free_port()
        gunicorn = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ]
        web = processes.start(
            "bench-web", [*gunicorn, "--bind", f"127.0.0.1:{web_port}", "portal.wsgi"], env
        )
        base = processes.start(
            "bench-baseline",
            [*gunicorn, "--bind", f"127.0.0.1:{base_port}", "bench.baseline:application"],
            env,
        )
        wait_for_port(web_port, timeout=30, process=web)
        wait_for_port(base_port, timeout=30, process=base)
        local = threading.local()

        def post(url: str) -> dict:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            # The baseline ignores the header; the portal needs the key.
            response = local.session.post(
                url, json=EXAMPLE, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
            )
            assert response.status_code == 201, response.text
            return response.json()

        http_summary = harness.side_by_side(
            "HTTP, gunicorn 2 workers x 4 threads",
            lambda i: post(f"http://127.0.0.1:{web_port}/v1/orders"),
            lambda i: post(f"http://127.0.0.1:{base_port}/"),
        )

        # Pipeline latency, as deployed: the relay and the workers in processes of their own.
        relay_stop.set()
        relay_thread.join(timeout=30)
        for status in ("received", "accepted", "scheduled"):
            stack.sqs.purge_queue(QueueUrl=stack.status_queue(status))
        processes.start(
            "bench-relay",
            [sys.executable, "manage.py", "relay_events"],
            {**env, "EVENT_RELAY_IDLE_SECONDS": "0.01"},
        )
        workers = {
            status: processes.start(
                f"bench-worker-{status}",
                [sys.executable, "manage.py", "runworker", status],
                env,
            )
            for status in ("received", "accepted", "scheduled")
        }
        processes.wait_until_ready([f"bench-worker-{status}" for status in workers])
        repo = service.changes.store
        latencies: list[float] = []
        hops: dict[str, list[float]] = {"received->accepted": [], "accepted->scheduled": []}
        for i in range(args.pipeline_orders + 3):
            order = post(f"http://127.0.0.1:{web_port}/v1/orders")
            acknowledged = datetime.now(UTC)
            scheduled = wait_for(
                lambda oid=order["id"]: (o := repo.get(oid)).status == "scheduled" and o,
                timeout=30,
                interval=0.05,  # the figures come from the order's own history, not this poll
                what="scheduled",
            )
            if i < 3:
                continue  # the first orders warm the workers up
            at = {h.to_status: h.at for h in scheduled.history}
            latencies.append(milliseconds(acknowledged, at["scheduled"]))
            hops["received->accepted"].append(milliseconds(at["received"], at["accepted"]))
            hops["accepted->scheduled"].append(milliseconds(at["accepted"], at["scheduled"]))
        print(f"\n201 Created -> scheduled, {len(latencies)} orders one at a time (ms)")
        print(f"  p50 {percentile(latencies, 50):.1f}  p95 {percentile(latencies, 95):.1f}")
        for hop, values in hops.items():
            print(
                f"  {hop} (move to move): p50 {percentile(values, 50):.1f}"
                f"  p95 {percentile(values, 95):.1f}"
            )

        print("\nResident memory (MB)")
        print(
            f"  web: gunicorn master {rss_mb(web.pid):.0f}, workers "
            + ", ".join(f"{rss_mb(p):.0f}" for p in children(web.pid))
        )
        for status, process in workers.items():
            print(f"  Celery worker {status} (threads pool): {rss_mb(process.pid):.0f}")
        print(f"  bench process (service layer, event relay): {rss_mb(os.getpid()):.0f}")
        print(
            json.dumps(
                {
                    "service": service_summary,
                    "http": http_summary,
                    "pipeline_p50_ms": percentile(latencies, 50),
                    "pipeline_p95_ms": percentile(latencies, 95),
                },
                default=float,
            )
        )
    finally:
        relay_stop.set()
        processes.stop_all()
        if engines is not None:
            engines.__exit__(None, None, None)  # stops DynamoDB Local


if __name__ == "__main__":
    main()

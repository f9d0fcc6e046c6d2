"""Capacity figures for docs/capacity.md: events/s one status worker drains, side by side with
a framework-free consumer, and the resident memory of every role's process.

    .venv/bin/python bench/capacity.py            # or: make bench-capacity

Two stacks in one moto server, one per contender, so they never share a queue or a table.
Each round creates N orders in ``received`` (in this process, no relay running) and puts their
events on the ``received`` queue in one burst of SendMessageBatch calls — exactly the bodies SNS
would deliver. The round ends when every order has been reviewed (moved to ``accepted`` or
``rejected``) and the queue is empty. Rounds alternate between:

- **worker**: ``python -m portal.role worker received`` (Celery, kombu's SQS transport, our
  EventChannel; WORKER_CONCURRENCY threads);
- **plain**: ``bench/plain_consumer.py`` — the same handler in a bare boto3 loop with as many
  threads.

Then the web role (gunicorn, 2 workers × 4 threads), the relay and the webhook dispatcher are
started as in the image; orders are posted to the API, and the CPU time each role spent per
order or event is read from /proc (transferable to other machines, unlike orders/s against
an emulator sharing the same two cores), with the resident memory (VmRSS) of each role.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.create import EXAMPLE, children, rss_mb  # noqa: E402
from tests.support import (  # noqa: E402
    AwsStack,
    Processes,
    free_port,
    start_emulator,
    wait_for,
    wait_for_port,
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300, help="events per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="threads per consumer")
    parser.add_argument("--web-orders", type=int, default=300, help="orders posted to the web")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    processes = Processes()
    try:
        endpoint = start_emulator(processes, "capacity-emulator")
        stacks = {
            who: AwsStack.provision(endpoint, f"cap{who[0]}-{uuid.uuid4().hex[:6]}")
            for who in ("worker", "plain")
        }
        state = ROOT / ".state"
        state.mkdir(exist_ok=True)
        database = state / f"capacity-{uuid.uuid4().hex[:6]}.sqlite3"
        base_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "DATABASE_URL": f"sqlite:///{database}",
            "WORKER_CONCURRENCY": str(args.concurrency),
            "SQS_WAIT_TIME_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update({**base_env, "ORDERS_RESOURCE_PREFIX": stacks["worker"].resources.prefix})

        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from orders.domain import rules
        from orders.domain.model import Actor, new_order_id
        from orders.domain.rules import OrderInput
        from orders.events.contract import to_message
        from orders.models import Team
        from portal import container

        call_command("migrate", verbosity=0)
        for category in ("hvac", "electrical", "plumbing"):
            Team.objects.update_or_create(
                code=f"{category}-crew",
                defaults={"name": category, "categories": [category], "capacity": 100_000},
            )

        def env_for(who: str) -> dict[str, str]:
            return {**base_env, "ORDERS_RESOURCE_PREFIX": stacks[who].resources.prefix}

        processes.start(
            "capacity-worker",
            [sys.executable, "-m", "portal.role", "worker", "received"],
            env_for("worker"),
        )
        processes.start(
            "capacity-plain",
            [
                sys.executable,
                str(ROOT / "bench" / "plain_consumer.py"),
                "received",
                str(args.concurrency),
            ],
            env_for("plain"),
        )
        processes.wait_until_ready(["capacity-worker", "capacity-plain"])

        def use_stack(who: str):
            stack = stacks[who]
            settings.ORDERS_RESOURCE_PREFIX = stack.resources.prefix
            settings.ORDERS_TABLE_NAME = stack.resources.table
            settings.ORDERS_TOPIC_NAME = stack.resources.topic
            container.reset()
            return stack, container.order_services()

        def one_round(who: str, events: int) -> float:
            stack, service = use_stack(who)
            actor = Actor.integrator("bench")
            ids, bodies = [], []
            for _ in range(events):
                order, event = rules.create_order(
                    OrderInput(**EXAMPLE),
                    order_id=new_order_id(),
                    integrator="bench",
                    actor=actor,
                    now=datetime.now(UTC),
                )
                message = to_message(event)  # what SNS delivers, byte for byte
                service.changes.store.add(order, message)
                ids.append(order.id)
                bodies.append(message.body)
            queue = stack.status_queue("received")
            started = time.perf_counter()
            for i in range(0, len(bodies), 10):
                stack.sqs.send_message_batch(
                    QueueUrl=queue,
                    Entries=[
                        {"Id": str(j), "MessageBody": body}
                        for j, body in enumerate(bodies[i : i + 10])
                    ],
                )

            def reviewed() -> bool:
                if stack.depth(queue) != (0, 0):
                    return False
                return all(o.status != "received" for o in service.changes.store.get_many(ids))

            wait_for(reviewed, timeout=300, interval=0.1, what=f"{who} to review {events}")
            return events / (time.perf_counter() - started)

        for who in ("worker", "plain"):
            one_round(who, 20)  # warm up
        results: dict[str, list[float]] = {"worker": [], "plain": []}
        worker_pid = processes.started[1][1].pid
        worker_cpu = 0.0
        for _ in range(args.rounds):
            for who in ("worker", "plain"):
                before = cpu_seconds(worker_pid)
                results[who].append(one_round(who, args.events))
                if who == "worker":
                    worker_cpu += cpu_seconds(worker_pid) - before
        median = {who: statistics.median(values) for who, values in results.items()}
        print(
            f"\nreceived worker, {args.rounds} alternating rounds of {args.events} events, "
            f"{args.concurrency} threads each"
        )
        for who in ("worker", "plain"):
            rounds = ", ".join(f"{v:.1f}" for v in results[who])
            print(f"  {who:7} {median[who]:7.1f} events/s (rounds: {rounds})")
        print(f"  Celery worker / plain loop: {median['worker'] / median['plain']:.2f}x")
        print(
            f"  worker CPU per event: {1000 * worker_cpu / (args.rounds * args.events):.1f} ms "
            "(its process, all threads; the rounds include its idle long polls)"
        )

        # Memory of each role, as the image runs them.
        web_port = free_port()
        role_env = {
            **env_for("worker"),
            "PORT": str(web_port),
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "4",
            "METRICS_PORT": str(free_port()),
            "METRICS_ADDR": "127.0.0.1",
        }
        web = processes.start(
            "capacity-web", [sys.executable, "-m", "portal.role", "web"], role_env
        )
        relay_metrics = free_port()
        relay = processes.start(
            "capacity-relay",
            [sys.executable, "-m", "portal.role", "relay"],
            {**env_for("worker"), "METRICS_PORT": str(relay_metrics), "METRICS_ADDR": "127.0.0.1"},
        )
        hooks = processes.start(
            "capacity-webhooks",
            [sys.executable, "-m", "portal.role", "webhooks"],
            {**env_for("worker"), "METRICS_PORT": str(free_port())},
        )
        wait_for_port(web_port, timeout=60, process=web)
        import requests

        from integrators.services import create_integrator, issue_key

        integrator, _ = create_integrator("Capacity", slug=f"cap-{uuid.uuid4().hex[:6]}")
        _, key = issue_key(integrator, label="bench")
        session_headers = {"Authorization": f"Bearer {key}"}
        base = f"http://127.0.0.1:{web_port}"

        def post(i: int) -> None:
            response = requests.post(
                f"{base}/v1/orders",
                json={**EXAMPLE, "external_reference": f"C-{i}"},
                headers=session_headers,
                timeout=30,
            )
            assert response.status_code == 201, response.text

        def published() -> float:
            text = requests.get(f"http://127.0.0.1:{relay_metrics}/metrics", timeout=5).text
            return sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("portal_events_published_total{")
            )

        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(post, range(-20, 0)))  # warm up
            wait_for(lambda: published() >= 20, timeout=60, what="the relay to catch up")
            web_pids = children(web.pid)
            web_before = sum(cpu_seconds(p) for p in web_pids)
            relay_before, published_before = cpu_seconds(relay.pid), published()
            started = time.perf_counter()
            list(pool.map(post, range(args.web_orders)))
            web_rate = args.web_orders / (time.perf_counter() - started)
            web_cpu = sum(cpu_seconds(p) for p in web_pids) - web_before
        # The received worker moves each order on, so the relay publishes more than one
        # event per order; wait for the creates at least, then read its counters.
        wait_for(
            lambda: published() - published_before >= args.web_orders,
            timeout=120,
            what="the relay to publish the orders",
        )
        relay_events = published() - published_before
        relay_cpu = cpu_seconds(relay.pid) - relay_before
        print(
            f"\nweb (gunicorn 2 workers x 4 threads), {args.web_orders} POST /v1/orders, "
            f"{args.concurrency} at a time: {web_rate:.1f} orders/s, "
            f"{1000 * web_cpu / args.web_orders:.1f} ms CPU per order in the web workers"
        )
        print(
            f"event relay: {1000 * relay_cpu / relay_events:.1f} ms CPU per event published "
            f"({relay_events:.0f} events, idle stream reads included)"
        )
        web_children = children(web.pid)
        print("\nresident memory (VmRSS, MB)")
        print(
            f"  web: master {rss_mb(web.pid):.0f} + "
            + " + ".join(f"{rss_mb(p):.0f}" for p in web_children)
            + " (gunicorn workers)"
        )
        print(f"  status worker (Celery, {args.concurrency} threads): {rss_mb(worker_pid):.0f}")
        print(f"  event relay: {rss_mb(relay.pid):.0f}")
        print(f"  webhook dispatcher: {rss_mb(hooks.pid):.0f}")
    finally:
        processes.stop_all()


if __name__ == "__main__":
    main()

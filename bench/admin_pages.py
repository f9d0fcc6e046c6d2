"""Admin page speed at 1k and 100k orders: server time of the pages staff open first.

    .venv/bin/python bench/admin_pages.py                      # 1,000 and 100,000 orders
    .venv/bin/python bench/admin_pages.py --sizes 1000 --rounds 20

One moto server process on this machine holds a table of N orders spread over the statuses
(loaded with BatchWriteItem, as the list reads them from the status index). Each page is
rendered by Django in this process (the test client: no network, so the figure is the
server's own time, DynamoDB calls to the emulator included). Side by side, in the same rounds
and order, the baseline is the bare repository call behind the list's first page
(``list_recent(limit=50)``): what the page costs beyond it is the admin's own. Medians and 95th
percentiles of the rounds are printed, in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STATE = Path(tempfile.mkdtemp(prefix="bench-admin-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ["DATABASE_URL"] = f"sqlite:///{STATE / 'admin.sqlite3'}"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from orders.domain import rules  # noqa: E402
from orders.domain.model import Actor  # noqa: E402
from orders.domain.rules import OrderInput  # noqa: E402
from orders.domain.workflow import STATUSES  # noqa: E402
from orders.repository.dynamodb import order_to_item  # noqa: E402
from portal import container  # noqa: E402
from tests.support import AwsStack, Processes, services_on, start_emulator  # noqa: E402

PAGES = {
    "list, first page": "/admin/orders/workorder/",
    "list, one status": "/admin/orders/workorder/?status=scheduled",
    "list, SLA breached": "/admin/orders/workorder/?sla=breached",
    "order detail": None,  # filled in with a stored order
    "pipeline": "/admin/orders/workorder/pipeline/",
    "index with dashboard": "/admin/",
}


def load(stack: AwsStack, table: str, count: int) -> str:
    """``count`` orders over every status, created a second apart; returns one order's id."""
    start = datetime.now(UTC) - timedelta(seconds=count)
    statuses = list(STATUSES)
    batch, some_id = [], ""
    for n in range(count):
        order, _ = rules.create_order(
            OrderInput(title=f"Order {n}", category="hvac", site=f"Store {n % 500}"),
            order_id=str(uuid.uuid4()),
            integrator="bench",
            actor=Actor.integrator("bench"),
            now=start + timedelta(seconds=n),
        )
        status = statuses[n % len(statuses)]
        order = replace(
            order,
            status=status,
            sla_due_at=order.created_at + timedelta(hours=4) if status != "received" else None,
        )
        some_id = order.id
        batch.append({"PutRequest": {"Item": order_to_item(order)}})
        if len(batch) == 25:
            stack.dynamodb.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        stack.dynamodb.batch_write_item(RequestItems={table: batch})
    return some_id


def count_calls(call) -> int:
    """DynamoDB requests ``call`` makes through the container's shared client."""
    made = []
    events = container.client("dynamodb").meta.events
    handler = events.register("before-call.dynamodb.*", lambda **_: made.append(1))
    try:
        call()
    finally:
        events.unregister("before-call.dynamodb.*", handler)
    return len(made)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.1f} {p95:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    staff = User.objects.create_superuser("bench", password="bench-not-used")
    client = Client()
    client.force_login(staff)
    processes = Processes()
    try:
        endpoint = start_emulator(processes)
        stack = AwsStack.provision(endpoint, f"bench-{uuid.uuid4().hex[:6]}")
        with services_on(stack):
            for size in (int(s) for s in args.sizes.split(",")):
                table = stack.fresh_table(f"admin{size}")
                started = time.perf_counter()
                order_id = load(stack, table, size)
                loaded = time.perf_counter() - started
                settings.ORDERS_TABLE_NAME = table
                container.reset()
                pages = {**PAGES, "order detail": f"/admin/orders/workorder/{order_id}/"}
                samples: dict[str, list[float]] = {"baseline: list_recent(50)": []}
                samples.update({name: [] for name in pages})
                calls: dict[str, int] = {}
                for name, url in pages.items():  # DynamoDB calls per page, counted once
                    counted = count_calls(lambda url=url: _ok(client.get(url), url))
                    calls[name] = counted
                calls["baseline: list_recent(50)"] = count_calls(
                    lambda: container.order_repository().list_recent(limit=50)
                )
                for _ in range(args.rounds):
                    repo = container.order_repository()
                    samples["baseline: list_recent(50)"].append(
                        timed(lambda repo=repo: repo.list_recent(limit=50))
                    )
                    for name, url in pages.items():
                        response_ms = timed(lambda url=url: _ok(client.get(url), url))
                        samples[name].append(response_ms)
                print(f"\n{size:,} orders (loaded in {loaded:.0f} s), {args.rounds} rounds, ms:")
                print(f"  {'page':32} {'median':>7} {'p95':>7} {'DynamoDB calls':>15}")
                for name, values in samples.items():
                    print(f"  {name:32} {summary(values)} {calls[name]:15}")
    finally:
        processes.stop_all()


def _ok(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")


if __name__ == "__main__":
    main()

"""Admin page speed at 1k and 100k orders: server time of the pages staff open first, with
the page's independent reads issued one at a time and at once (``AWS_CONCURRENT_READS``).

    .venv/bin/python bench/admin_pages.py                      # 1,000 and 100,000 orders
    .venv/bin/python bench/admin_pages.py --sizes 1000 --rounds 20 --latency-ms 10

One moto server process on this machine holds a table of N orders spread over the statuses
(loaded with BatchWriteItem, as the list reads them from the status index). Each page is
rendered by Django in this process (the test client: no network, so the figure is the
server's own time, AWS calls to the emulator included). Side by side, in the same rounds,
each page is read in both modes, and the baseline is the bare repository call behind the
list's first page (``list_recent(limit=50)``): what the page costs beyond it is the admin's
own. Printed per page and mode: median and 95th percentile of the wall time, the median CPU
time of this process (what the page costs apart from waiting on AWS), the DynamoDB and all
AWS calls, and how many of them ran one after another (round trips deep). The emulator
applies DynamoDB requests one at a time and its Query reads every item of the table, so its
wall times say little about DynamoDB; ``--latency-ms`` adds a network round trip to every
request, on the thread that sends it, to see what issuing reads at once saves.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
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
from botocore.config import Config  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from aws import clients  # noqa: E402
from orders.domain import rules  # noqa: E402
from orders.domain.model import Actor  # noqa: E402
from orders.domain.rules import OrderInput  # noqa: E402
from orders.domain.workflow import STATUSES  # noqa: E402
from orders.repository.dynamodb import order_to_item  # noqa: E402
from portal import container  # noqa: E402
from tests.support import AwsStack, Processes, services_on, start_emulator  # noqa: E402

# The emulator applies DynamoDB requests one at a time and scans the table for each, so ten
# reads issued at once on a big table queue for longer than the service timeout (10 s): on
# DynamoDB they run side by side. The bench waits for them rather than time out.
clients.SERVICE_CONFIG = clients.SERVICE_CONFIG.merge(Config(read_timeout=300))

BASELINE = "baseline: list_recent(50)"
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


def aws_clients() -> list:
    return [container.client(name) for name in ("dynamodb", "sqs", "cloudwatch")]


class CallLog:
    """Every AWS request's service and its (start, end) on the caller's side, from botocore's
    events on the shared clients."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []
        self._started = threading.local()
        self._lock = threading.Lock()

    def _before(self, event_name: str, **_) -> None:
        self._started.at = time.perf_counter()

    def _after(self, event_name: str, **_) -> None:
        with self._lock:
            self.calls.append((event_name.split(".")[1], self._started.at, time.perf_counter()))

    def watch(self, call) -> CallLog:
        hooks = []
        for client in aws_clients():
            service = client.meta.service_model.service_id.hyphenize()
            for event, hook in (("before-call", self._before), ("after-call", self._after)):
                client.meta.events.register(f"{event}.{service}", hook)
                hooks.append((client, f"{event}.{service}", hook))
        try:
            call()
        finally:
            for client, event, hook in hooks:
                client.meta.events.unregister(event, hook)
        return self

    @property
    def dynamodb(self) -> int:
        return sum(1 for service, _, _ in self.calls if service == "dynamodb")

    @property
    def round_trips(self) -> int:
        """The most requests that ran strictly one after another (requests in flight together
        count once): how many round trips deep the page is, at most. The emulator applies
        DynamoDB requests one at a time, which staggers requests sent together, so a short
        request of one thread can fit between two of another's and count too."""
        chain, free_at = 0, float("-inf")
        for _, start, end in sorted(self.calls, key=lambda c: c[2]):
            if start >= free_at:
                chain, free_at = chain + 1, end
        return chain


def add_latency(milliseconds: float) -> None:
    """Every AWS request waits this long before it is sent, on the thread that sends it, as a
    network round trip would (the emulator answers from loopback in well under that)."""
    if milliseconds <= 0:
        return
    for client in aws_clients():
        client.meta.events.register(
            "before-send", lambda **_: time.sleep(milliseconds / 1000) or None
        )


def timed(call) -> tuple[float, float]:
    """Wall time, and CPU time of this process (Django, boto3; not the emulator's), in ms."""
    started, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.1f} {p95:7.1f}"


MODES = {"one at a time": 1, "at once": 10}  # AWS_CONCURRENT_READS


def use_table(table: str) -> None:
    settings.ORDERS_TABLE_NAME = table
    container.reset()  # new clients, without the latency hooks


def use_mode(reads_at_once: int) -> None:
    """The shared fan-out's width: the same clients, caches and URLs in both modes."""
    container.fan_out().workers = reads_at_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="added to every AWS request, as a round trip to DynamoDB/SQS in the region is",
    )
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
                pages = {**PAGES, "order detail": f"/admin/orders/workorder/{order_id}/"}
                samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
                logs: dict[tuple[str, str], CallLog] = {}
                use_table(table)
                for mode, reads_at_once in MODES.items():  # AWS calls per page, seen once
                    use_mode(reads_at_once)
                    for name, url in pages.items():
                        logs[(name, mode)] = CallLog().watch(
                            lambda url=url: _ok(client.get(url), url)
                        )
                    logs[(BASELINE, mode)] = CallLog().watch(
                        lambda: container.order_repository().list_recent(limit=50)
                    )
                add_latency(args.latency_ms)
                for _ in range(args.rounds):
                    # Side by side: both modes in every round, so noise hits them alike.
                    for mode, reads_at_once in MODES.items():
                        use_mode(reads_at_once)
                        repo = container.order_repository()
                        samples.setdefault((BASELINE, mode), []).append(
                            timed(lambda repo=repo: repo.list_recent(limit=50))
                        )
                        for name, url in pages.items():
                            samples.setdefault((name, mode), []).append(
                                timed(lambda url=url: _ok(client.get(url), url))
                            )
                print(
                    f"\n{size:,} orders (loaded in {loaded:.0f} s), {args.rounds} rounds, "
                    f"{args.latency_ms:g} ms added per AWS request; median and p95, ms:"
                )
                print(
                    f"  {'page':28} {'mode':13} {'median':>7} {'p95':>7} {'CPU':>6} "
                    f"{'DynamoDB':>9} {'AWS calls':>9} {'one after another':>18}"
                )
                for name in [BASELINE, *pages]:
                    for mode in MODES:
                        log = logs[(name, mode)]
                        wall = [w for w, _ in samples[(name, mode)]]
                        cpu = statistics.median(c for _, c in samples[(name, mode)])
                        print(
                            f"  {name:28} {mode:13} {summary(wall)} {cpu:6.1f} "
                            f"{log.dynamodb:9} {len(log.calls):9} {log.round_trips:18}"
                        )
    finally:
        processes.stop_all()


def _ok(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")


if __name__ == "__main__":
    main()

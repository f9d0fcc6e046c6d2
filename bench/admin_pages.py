"""Admin page speed at 1,000 and 100,000 orders on AWS's DynamoDB Local: the server time of the
pages staff open first, and the DynamoDB calls behind each.

    .venv/bin/python bench/admin_pages.py                      # or: make bench-admin
    .venv/bin/python bench/admin_pages.py --sizes 1000 --rounds 5
    .venv/bin/python bench/admin_pages.py --sizes 100000 --reads-at-once 1,10
    BENCH_DYNAMODB=moto .venv/bin/python bench/admin_pages.py --sizes 1000

Each size gets fresh engines (DynamoDB Local slows as its database grows): AWS's DynamoDB
Local serves DynamoDB (``BENCH_DYNAMODB=moto``: moto's, whose Query reads the whole table,
so pages take seconds at 1,000 orders; small sizes only), a moto server SQS, SNS and
CloudWatch, provisioned as deployed (orders table and its indexes, side table, topic,
queues). The engines run on this machine: their CPU and the pages' share its cores, so the
load averages before and after are printed (run again when other work disturbed them).

The orders are written straight to the orders table, the items ``order_to_item`` makes (every
index key as the repository writes it: ``by-status-shard``, ``by-integrator-shard``,
``by-created-shard``), 25 per BatchWriteItem with ``--load-threads`` calls in flight (100,000
take two to four minutes). Each order is made by the domain's rules (created, then moved
along the workflow to its status, so its history, SLA due time, team and times are what the
workers and staff would leave), created at random over the past ``--days`` (seeded: the
same population every run): eight integrators (one sends 40 %), four categories, priorities
mostly normal (8 % urgent), the status by age (minutes old: received, accepted, scheduled;
up to two days: scheduled, started, completed; older: mostly completed). No search entries,
notes, feed or technicians: no page measured reads them.

Each page is rendered by Django in this process (the test client: no network, so the figure
is the server's own time, the AWS calls to the engines included), logged in as a superuser:
the order list's first page (newest first, no filter: the keys-only ``by-created-shard``
index, then BatchGetItem of the page's orders; the per-status counts above the list), the
list filtered by one status (``scheduled``: its ``by-status-shard`` shards), the list
filtered by one priority (``urgent``, no status: ``by-created-shard`` again, the orders read
and filtered), the pipeline page and the admin index with its dashboard. The baseline, in
the same rounds, is the bare repository call behind the list's first page
(``list_recent(limit=50)``): what a page costs beyond it is the page's own. ``--warm-up``
rounds first (the JVM compiles as it goes), then ``--rounds`` rounds, each page in turn.

Printed per page: median and 95th percentile of the wall time, the median CPU time of this
process (Django, boto3: what the page costs apart from waiting on the engines), the DynamoDB
calls and all AWS calls per render, how many ran one after another (round trips deep, the
median render's) and the orders the list shows. Then per page the calls by kind (operation,
index, COUNT), with each kind's median and 95th percentile call time as this process sees it
(signing and sending, the engine's work and waiting for it, parsing). ``--reads-at-once``
compares widths of the pages' fan-out (``AWS_CONCURRENT_READS``, 10 as deployed; 1 = one
call at a time) side by side in the same rounds; ``--latency-ms`` adds a network round trip
to every AWS request, on the thread that sends it.
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
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

from aws import clients  # noqa: E402

# moto's DynamoDB (BENCH_DYNAMODB=moto) applies requests one at a time and reads the whole
# table for each Query: at 100,000 orders the reads issued at once queue for longer than the
# service timeout (10 s). The bench waits for them rather than time out.
clients.SERVICE_CONFIG = clients.SERVICE_CONFIG.merge(Config(read_timeout=300))

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.admin_population import INTEGRATORS, load  # noqa: E402
from integrators.models import Integrator  # noqa: E402
from orders.domain.model import CATEGORIES  # noqa: E402
from orders.domain.workflow import STATUSES  # noqa: E402
from orders.models import Team  # noqa: E402
from portal import container  # noqa: E402
from tests.support import AwsStack, Emulators, Processes, emulators, services_on  # noqa: E402

BASELINE = "baseline: list_recent(50)"
PAGES = {
    "list, first page": "/admin/orders/workorder/",
    "list, one status": "/admin/orders/workorder/?status=scheduled",
    "list, one priority": "/admin/orders/workorder/?priority=urgent",
    "pipeline": "/admin/operations/pipeline/",
    "index with dashboard": "/admin/",
}
LISTS = ("list, first page", "list, one status", "list, one priority")


def directory() -> None:
    """The integrators and teams the list and the pipeline name (Django's tables)."""
    for slug, _ in INTEGRATORS:
        Integrator.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
    for category in CATEGORIES:
        Team.objects.update_or_create(
            code=f"{category}-crew",
            defaults={"name": f"{category.title()} crew", "categories": [category]},
        )


# -- what a render calls ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    service: str
    kind: str  # operation, and for a Query its index and whether it only counts
    start: float
    end: float

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def aws_clients() -> list:
    return [container.client(name) for name in ("dynamodb", "sqs", "cloudwatch")]


class Recorder:
    """Every AWS request of a render: its kind and its (start, end) on the caller's side, from
    botocore's events on the portal's shared clients (fan-out threads included)."""

    def __init__(self) -> None:
        self.renders: dict[tuple[str, str], list[list[Call]]] = defaultdict(list)
        self._calls: list[Call] | None = None
        self._lock = threading.Lock()

    def attach(self) -> None:
        for client in aws_clients():
            service = client.meta.service_model.service_id.hyphenize()
            events = client.meta.events
            events.register(f"provide-client-params.{service}", self._params)
            events.register(f"before-call.{service}", self._before)
            events.register(f"after-call.{service}", self._after)

    @contextmanager
    def render(self, page: str, mode: str) -> Iterator[None]:
        self._calls = []
        try:
            yield
        finally:
            self.renders[(page, mode)].append(self._calls)
            self._calls = None

    def _params(self, params: dict, model: Any, context: dict, **_: Any) -> None:
        kind = model.name
        if "IndexName" in params:
            kind += f" {params['IndexName']}"
        if params.get("Select") == "COUNT":
            kind += " COUNT"
        context["bench_kind"] = kind

    def _before(self, context: dict, **_: Any) -> None:
        context["bench_started"] = time.perf_counter()

    def _after(self, model: Any, context: dict, **_: Any) -> None:
        end = time.perf_counter()
        if self._calls is None or "bench_started" not in context:
            return
        service = model.service_model.service_name
        call = Call(service, context.get("bench_kind", model.name), context["bench_started"], end)
        with self._lock:
            self._calls.append(call)


def round_trips(calls: list[Call]) -> int:
    """The most requests that ran strictly one after another (requests in flight together
    count once): how many round trips deep the render was, at most."""
    chain, free_at = 0, float("-inf")
    for call in sorted(calls, key=lambda c: c.end):
        if call.start >= free_at:
            chain, free_at = chain + 1, call.end
    return chain


def add_latency(milliseconds: float) -> None:
    """Every AWS request waits this long before it is sent, on the thread that sends it, as a
    network round trip would (the emulators answer from loopback)."""
    if milliseconds <= 0:
        return
    for client in aws_clients():
        client.meta.events.register(
            "before-send", lambda **_: time.sleep(milliseconds / 1000) or None
        )


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall time and CPU time of this process (Django, boto3; not the engines') in ms, and
    what the call returned."""
    started, cpu = time.perf_counter(), time.process_time()
    result = call()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, result


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def use_width(reads_at_once: int) -> None:
    """The shared fan-out's width (AWS_CONCURRENT_READS): the same clients, caches and queue
    URLs in every mode."""
    container.fan_out().workers = reads_at_once


def use_figures(mode: str) -> None:
    """``kept``: the figures the relay counted (kept fresh, as deployed with a relay);
    ``counted``: none recent enough, so the page counts them (no relay running)."""
    settings.ADMIN_FIGURES_MAX_AGE_SECONDS = 10**9 if mode == "kept" else 0


def mode_name(width: int, figures: str) -> str:
    reads = "one at a time" if width == 1 else f"{width} at once"
    return f"{reads}, {figures}"


def rows_shown(response) -> int:
    """Orders on a list page (one row each)."""
    return response.content.count(b'data-order="')


def _widths(text: str) -> list[int]:
    return [int(w) for w in text.split(",")]


def load_average() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


# -- one size -----------------------------------------------------------------------------


def run_size(size: int, client: Client, args: argparse.Namespace) -> None:
    processes = Processes()
    try:
        with emulators(processes) as where:
            stack = AwsStack.provision(where, f"bench-{uuid.uuid4().hex[:6]}")
            with services_on(stack):
                measure(size, stack, where, client, args)
    finally:
        processes.stop_all()


def measure(size: int, stack: AwsStack, where: Emulators, client: Client, args) -> None:
    print(
        f"\n{size:,} orders; DynamoDB: {where.engine}; SQS, SNS, CloudWatch: {where.services} "
        f"{where.aws}",
        flush=True,
    )
    loaded_at, load_before = time.perf_counter(), load_average()
    statuses = load(stack, size, threads=args.load_threads, days=args.days)
    loaded = time.perf_counter() - loaded_at
    stored = stack.dynamodb.describe_table(TableName=stack.resources.table)["Table"]["ItemCount"]
    print(
        f"  loaded in {loaded:.0f} s ({size / loaded:,.0f} orders/s, {args.load_threads} "
        f"threads; load average {load_before} -> {load_average()}); the table holds "
        f"{stored:,} items; by status: " + ", ".join(f"{s} {statuses[str(s)]:,}" for s in STATUSES),
        flush=True,
    )
    widths = _widths(args.reads_at_once)
    figure_modes = [m.strip() for m in args.figures.split(",") if m.strip()]
    repo = container.order_repository()
    # The staff's figures as the relay keeps them (orders.figures): one count, timed here,
    # is what the relay of group 0 does every few seconds while orders change.
    settings.EVENT_RELAY_GROUP = 0
    refresher = container.figures_refresher()
    count_ms, count_cpu, _ = timed(lambda: refresher.refresh(time.monotonic()))
    print(
        f"  the relay's count of the staff's figures: {count_ms:.0f} ms "
        f"({count_cpu:.0f} ms CPU), kept in one item",
        flush=True,
    )
    recorder = Recorder()
    recorder.attach()
    add_latency(args.latency_ms)
    renders: dict[str, Callable[[], Any]] = {
        BASELINE: lambda: repo.list_recent(limit=50),
        **{name: (lambda url=url: _ok(client.get(url), url)) for name, url in PAGES.items()},
    }
    samples: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    rows: dict[str, int] = {}
    measuring_at = load_average()
    for round_number in range(args.warm_up + args.rounds):
        counted = round_number >= args.warm_up
        # Side by side: every mode in every round, so noise hits them alike.
        for width, figures in ((w, f) for w in widths for f in figure_modes):
            use_width(width)
            use_figures(figures)
            mode = mode_name(width, figures)
            for name, render in renders.items():
                if not counted:
                    render()
                    continue
                with recorder.render(name, mode):
                    wall, cpu, result = timed(render)
                samples[(name, mode)].append((wall, cpu))
                if name in LISTS:
                    rows[name] = rows_shown(result)
    print(
        f"  {args.rounds} rounds after {args.warm_up} warm-up rounds, "
        f"{args.latency_ms:g} ms added per AWS request; load average {measuring_at} -> "
        f"{load_average()} ({os.cpu_count()} CPUs); ms:"
    )
    print(
        f"  {'page':26} {'reads, figures':22} {'median':>7} {'p95':>7} {'CPU':>6} {'DynamoDB':>8} "
        f"{'AWS':>5} {'deep':>5} {'rows':>5}"
    )
    modes = [mode_name(w, f) for w in widths for f in figure_modes]
    for name in renders:
        for mode in modes:
            wall = [w for w, _ in samples[(name, mode)]]
            cpu = statistics.median(c for _, c in samples[(name, mode)])
            seen = recorder.renders[(name, mode)]
            dynamodb = sorted(sum(c.service == "dynamodb" for c in calls) for calls in seen)
            every = sorted(len(calls) for calls in seen)
            deep = statistics.median(round_trips(calls) for calls in seen)
            shown = str(rows[name]) if name in rows else ""
            print(
                f"  {name:26} {mode:22} {statistics.median(wall):7.1f} "
                f"{percentile(wall, 95):7.1f} {cpu:6.1f} {_spread(dynamodb):>8} "
                f"{_spread(every):>5} {deep:5.0f} {shown:>5}"
            )
    print("  calls per render by kind: count x median / p95 ms each, as this process sees them")
    for name in renders:
        for mode in modes:
            seen = recorder.renders[(name, mode)]
            by_kind: dict[str, list[float]] = defaultdict(list)
            for calls in seen:
                for call in calls:
                    by_kind[call.kind].append(call.ms)
            kinds = "; ".join(
                f"{kind} {len(times) / len(seen):g} x {statistics.median(times):.1f} / "
                f"{percentile(times, 95):.1f}"
                for kind, times in sorted(by_kind.items(), key=lambda k: -len(k[1]))
            )
            print(f"  {name:26} {mode:22} {kinds}")


def _spread(values: list[int]) -> str:
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}-{values[-1]}"


def _ok(response, url: str):
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code}")
    return response


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000", help="orders; fresh engines for each")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warm-up", type=int, default=3, help="rounds run first, not counted")
    parser.add_argument(
        "--load-threads", type=int, default=8, help="BatchWriteItem calls in flight"
    )
    parser.add_argument("--days", type=float, default=30, help="orders created over this many days")
    parser.add_argument(
        "--reads-at-once",
        default="10",  # AWS_CONCURRENT_READS as deployed
        help="AWS_CONCURRENT_READS widths compared side by side, e.g. 1,10",
    )
    parser.add_argument(
        "--figures",
        default="kept,counted",
        help="kept: the figures the relay counted; counted: counted by the page (no relay)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        help="added to every AWS request, as a round trip to DynamoDB/SQS in the region is",
    )
    return parser.parse_args()


def main(args: argparse.Namespace) -> None:
    # Static files are not collected for a bench; WhiteNoise says so once per client.
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ["TEST_DYNAMODB"] = os.environ.get("BENCH_DYNAMODB", "local")
    # The fan-out is made (at services_on's reset) with slots for the widest width; each
    # mode narrows its pools.
    settings.AWS_CONCURRENT_READS = max(_widths(args.reads_at_once))
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    directory()
    staff = User.objects.create_superuser("bench", password="bench-not-used")
    client = Client()
    client.force_login(staff)
    for size in (int(s) for s in args.sizes.split(",")):
        run_size(size, client, args)


if __name__ == "__main__":
    main(arguments())

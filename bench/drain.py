"""Drain benchmark: N orders through the whole stack, with the usual faults, until every one is
scheduled and the status queues are empty (issue 20: 5,000 orders in 10 minutes or less).

    make bench-drain BENCH_ARGS="--orders 5000"
    .venv/bin/python bench/drain.py [--orders 5000 --concurrency 8 --seed 1 --deadline-minutes 15]

A fresh stack, as bench/create.py starts it: DynamoDB Local (``BENCH_DYNAMODB=moto`` for moto's)
and a moto server for SNS and SQS, a SQLite Django database, gunicorn (2 workers x 4 threads),
one event relay and one Celery worker per status an order passes through (``--workers``:
received, accepted, scheduled). Clients POST the orders over HTTP, each with an
``Idempotency-Key`` and an ``external_reference`` of its own, retrying a failed connection (or
a 5xx, 409 in progress, 429) with the same key. Meanwhile, seeded: every 5-20 s one random
process among the relay and the workers is killed (SIGKILL) and started again at once, as an
orchestrator would; every 10-30 s one is stopped (SIGSTOP) for 1-5 s, then continued. The web
and the emulators are left alone.

"Drained" is the first moment every created order reads ``scheduled`` (BatchGetItem through the
repository, 100 ids a call; no Scan) and every status queue shows no message, visible or in
flight. Every 10 s a progress line gives the orders created, the orders per status, the queue
depths and the CPU each role used since the last line (% of one core), so that what binds can
be read off. At the end: orders lost (created, not scheduled by the deadline), orders a move
was applied to twice (two history entries into one status), dead letters, and a JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.create import EXAMPLE, stack_environment  # noqa: E402 - after the path is set
from tests.support import (  # noqa: E402
    AwsStack,
    Processes,
    emulators,
    free_port,
    wait_for_port,
)

CATEGORIES = ("hvac", "electrical", "plumbing", "general")
TICKS = os.sysconf("SC_CLK_TCK")
PROGRESS_EVERY = 10.0


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of one process (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in path.read_text().split()]
    except OSError:
        return []


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy since boot (all processes)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICKS


def java_pid_on_port(port: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"java") and str(port).encode() in argv:
            return int(entry.name)
    return None


class CpuMeter:
    """CPU seconds per role, summed over every process (and life) the role had."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str, float]] = {}  # pid -> (role, last CPU seconds read)
        self.lock = threading.Lock()

    def sample(self, roles: dict[str, list[int]]) -> None:
        with self.lock:
            for role, pids in roles.items():
                for pid in pids:
                    used = cpu_seconds(pid)
                    if used is not None:
                        self.seen[pid] = (role, used)

    def totals(self) -> Counter:
        with self.lock:
            total: Counter = Counter()
            for role, used in self.seen.values():
                total[role] += used
            total["bench"] = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
            return total


class Faults:
    """The usual faults, seeded: SIGKILL + immediate restart every 5-20 s, SIGSTOP for 1-5 s
    every 10-30 s, each on a random process among ``roles``."""

    def __init__(self, seed: int, start, roles: list[str], log) -> None:
        self.random = random.Random(seed)
        self.start = start  # role -> a new Popen for it
        self.roles = roles
        self.log = log
        self.current: dict[str, subprocess.Popen] = {}
        self.lives: Counter = Counter()
        self.kills: Counter = Counter()
        self.pauses: Counter = Counter()
        self.paused_seconds = 0.0
        self.crashes: Counter = Counter()  # exits we did not cause (then restarted too)
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.paused: dict[str, float] = {}  # role -> when to continue it

    def launch(self, role: str) -> subprocess.Popen:
        with self.lock:
            self.lives[role] += 1
            process = self.start(role, self.lives[role])
            self.current[role] = process
            return process

    def pids(self) -> dict[str, list[int]]:
        with self.lock:
            return {role: [p.pid] for role, p in self.current.items()}

    def kill(self, role: str) -> None:
        with self.lock:
            process = self.current[role]
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.paused.pop(role, None)
            self.kills[role] += 1
            self.launch(role)

    def pause(self, role: str, seconds: float) -> None:
        with self.lock:
            if role in self.paused:
                return
            os.killpg(self.current[role].pid, signal.SIGSTOP)
            self.paused[role] = time.monotonic() + seconds
            self.pauses[role] += 1
            self.paused_seconds += seconds

    def resume_due(self, now: float, *, all_of_them: bool = False) -> None:
        with self.lock:
            for role, until in list(self.paused.items()):
                if all_of_them or until <= now:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.current[role].pid, signal.SIGCONT)
                    del self.paused[role]

    def restart_crashed(self) -> None:
        with self.lock:
            for role, process in list(self.current.items()):
                if process.poll() is not None:
                    self.crashes[role] += 1
                    self.log(f"  ! {role} exited by itself ({process.returncode}); restarting")
                    self.launch(role)

    def run(self) -> None:
        now = time.monotonic()
        next_kill = now + self.random.uniform(5, 20)
        next_pause = now + self.random.uniform(10, 30)
        while not self.stop.wait(0.1):
            now = time.monotonic()
            self.resume_due(now)
            self.restart_crashed()
            if now >= next_kill:
                self.kill(self.random.choice(self.roles))
                next_kill = now + self.random.uniform(5, 20)
            if now >= next_pause:
                self.pause(self.random.choice(self.roles), self.random.uniform(1, 5))
                next_pause = now + self.random.uniform(10, 30)
        self.resume_due(time.monotonic(), all_of_them=True)


class Client:
    """POSTs orders the way an integrator's client would: its own key per order, the same
    key again after a failed connection or an answer that says to retry."""

    def __init__(self, url: str, api_key: str, tag: str):
        self.url, self.api_key, self.tag = url, api_key, tag
        self.local = threading.local()
        self.lock = threading.Lock()
        self.ids: dict[int, str] = {}
        self.created_at: list[float] = []
        self.outcomes: Counter = Counter()
        self.failed: list[str] = []

    def post(self, i: int) -> None:
        import requests

        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        body = {
            **EXAMPLE,
            "category": CATEGORIES[i % len(CATEGORIES)],
            "external_reference": f"{self.tag}-{i}",
        }
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(30):
            try:
                response = self.local.session.post(self.url, json=body, headers=headers, timeout=30)
            except requests.RequestException as exc:
                self.count(f"retry {type(exc).__name__}")
                self.local.session = requests.Session()
                time.sleep(min(0.2 * 2**attempt, 5))
                continue
            code = response.status_code
            if code == 201:
                with self.lock:
                    self.ids[i] = response.json()["id"]
                    self.created_at.append(time.monotonic())
                    self.outcomes[
                        "replayed" if response.headers.get("Idempotent-Replayed") else "201"
                    ] += 1
                return
            if code >= 500 or code in (409, 429):
                problem = response.json().get("type", "") if code == 409 else ""
                if code == 409 and "duplicate-reference" in problem:
                    # Our key's record is gone but the order is there: take it, and say so.
                    with self.lock:
                        self.ids[i] = response.json().get("existing_order", "")
                        self.outcomes["409 duplicate-reference"] += 1
                    return
                self.count(f"retry {code}")
                time.sleep(float(response.headers.get("Retry-After", 0.5)))
                continue
            self.count(f"failed {code}")
            with self.lock:
                self.failed.append(f"{i}: {code} {response.text[:200]}")
            return
        self.count("gave up")

    def count(self, what: str) -> None:
        with self.lock:
            self.outcomes[what] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8, help="client threads POSTing")
    parser.add_argument("--seed", type=int, default=1, help="of the faults")
    parser.add_argument("--deadline-minutes", type=float, default=15.0, help="from the first POST")
    parser.add_argument("--target-minutes", type=float, default=10.0, help="issue 20's target")
    parser.add_argument(
        "--workers",
        default="received,accepted,scheduled",
        help="statuses with a worker (comma-separated): those an order passes through",
    )
    parser.add_argument("--no-faults", action="store_true", help="no kills, no pauses")
    args = parser.parse_args()
    statuses = [s.strip() for s in args.workers.split(",") if s.strip()]

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    processes = Processes()
    engines = None
    faults: Faults | None = None
    wall_started = time.monotonic()

    def log(line: str) -> None:
        print(line, flush=True)

    log(
        f"load average at start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
        f"{os.getloadavg()[2]:.2f} ({os.cpu_count()} cores)"
    )
    try:
        os.environ["TEST_DYNAMODB"] = os.environ.get("BENCH_DYNAMODB", "local")
        engines = emulators(processes)
        where = engines.__enter__()
        prefix = f"drain-{uuid.uuid4().hex[:6]}"
        stack = AwsStack.provision(where, prefix)
        env = stack_environment(where, prefix, METRICS_PORT="0")
        if os.geteuid() == 0:
            env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser privileges"
        os.environ.update(env)

        import django

        django.setup()
        from django.core.management import call_command

        from integrators.services import create_integrator, issue_key
        from orders.models import Team
        from portal.container import order_repository

        call_command("migrate", verbosity=0)
        integrator, _ = create_integrator("Drain", slug="drain")
        _, api_key = issue_key(integrator, label="drain")
        for category in CATEGORIES:
            Team.objects.update_or_create(
                code=f"{category}-crew",
                defaults={"name": category, "categories": [category], "capacity": 100_000},
            )
        repo = order_repository()
        log(
            f"DynamoDB: {where.engine}; SNS, SQS: {where.services} {where.aws}; "
            f"resources prefixed {prefix}"
        )

        web_port = free_port()
        web = processes.start(
            f"{prefix}-web",
            [
                sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4",
                "--log-level", "warning", "--bind", f"127.0.0.1:{web_port}", "portal.wsgi",
            ],
            env,
        )  # fmt: skip

        def start_role(role: str, life: int) -> subprocess.Popen:
            if role == "relay":
                argv = [sys.executable, "manage.py", "relay_events"]
            else:
                argv = [sys.executable, "manage.py", "runworker", role.removeprefix("worker-")]
            return processes.start(f"{prefix}-{role}-{life}", argv, env)

        roles = ["relay", *(f"worker-{s}" for s in statuses)]
        faults = Faults(args.seed, start_role, roles, log)
        for role in roles:
            faults.launch(role)
        wait_for_port(web_port, timeout=60, process=web)
        processes.wait_until_ready([f"{prefix}-worker-{s}-1" for s in statuses], timeout=120)

        queues = {s: stack.status_queue(s) for s in statuses}
        dead_letter_queues = {s: stack.dead_letter_queue(s) for s in statuses}
        from orders.domain.workflow import STATUSES

        other_queues = {
            str(s): stack.status_queue(str(s)) for s in STATUSES if str(s) not in statuses
        }
        other_dlqs = {
            str(s): stack.dead_letter_queue(str(s)) for s in STATUSES if str(s) not in statuses
        }
        aws_name = "ministack" if where.services == "ministack" else "moto"
        moto_pid = next(p.pid for n, p, _ in processes.started if n in ("emulator", "ministack"))
        ddb_pid = (
            java_pid_on_port(int(where.dynamodb.rsplit(":", 1)[1]))
            if "local" in (where.engine.lower())
            else None
        )

        def role_pids() -> dict[str, list[int]]:
            pids = {role: p for role, p in faults.pids().items()}
            pids["web"] = [web.pid, *children(web.pid)]
            pids[aws_name] = [moto_pid, *children(moto_pid)]
            if ddb_pid:
                pids["dynamodb-local"] = [ddb_pid]
            return pids

        meter = CpuMeter()
        client = Client(f"http://127.0.0.1:{web_port}/v1/orders", api_key, prefix)
        status_of: dict[str, str] = {}  # order id -> last status read (scheduled is final)

        def read_statuses() -> Counter:
            with client.lock:
                ids = list(client.ids.values())
            pending = [i for i in ids if status_of.get(i) != "scheduled"]
            for start in range(0, len(pending), 100):
                for order in repo.get_many(pending[start : start + 100], listed=True):
                    status_of[order.id] = str(order.status)
            return Counter(status_of.get(i, "unread") for i in ids)

        def depths(urls: dict[str, str]) -> dict[str, tuple[int, int]]:
            return {s: stack.depth(url) for s, url in urls.items()}

        log(
            f"stack up in {time.monotonic() - wall_started:.0f} s; POSTing {args.orders} orders, "
            f"{args.concurrency} at a time; faults on {', '.join(roles)}"
            + (" (off)" if args.no_faults else f" (seed {args.seed})")
        )
        log(
            "  progress: t (s since first POST) | created (201) | scheduled | by status | "
            "queue depth visible+in flight | CPU % of one core since the last line"
        )
        pool = ThreadPoolExecutor(args.concurrency)
        first_post = time.monotonic()
        meter.sample(role_pids())
        busy_before, cpu_before, at_before = machine_busy_seconds(), meter.totals(), first_post
        posting = [pool.submit(client.post, i) for i in range(args.orders)]
        if not args.no_faults:
            faults.thread.start()
        deadline = first_post + args.deadline_minutes * 60
        drained_at: float | None = None
        posted_at: float | None = None
        next_progress = first_post + PROGRESS_EVERY
        counts: Counter = Counter()
        queue_depths: dict[str, tuple[int, int]] = {}
        while time.monotonic() < deadline:
            now = time.monotonic()
            if posted_at is None and all(f.done() for f in posting):
                posted_at = now
                for f in posting:
                    f.result()  # a client bug should not pass for a slow stack
                log(f"  all POSTs answered at {now - first_post:.1f} s")
            remaining = len(client.ids) - counts.get("scheduled", 0)
            if now >= next_progress or (posted_at is not None and remaining <= 300):
                counts = read_statuses()
                queue_depths = depths(queues)
                all_scheduled = counts.get("scheduled", 0) == len(client.ids)
                if (
                    posted_at is not None
                    and all_scheduled
                    and not any(sum(d) for d in queue_depths.values())
                    and not any(sum(d) for d in depths(other_queues).values())
                ):
                    drained_at = time.monotonic()
                    break
            if now >= next_progress:
                meter.sample(role_pids())
                cpu, busy, sampled = meter.totals(), machine_busy_seconds(), time.monotonic()
                span = sampled - at_before
                used = {k: (cpu[k] - cpu_before[k]) / span * 100 for k in cpu}
                ours = sum(cpu[k] - cpu_before[k] for k in cpu)
                used["others"] = max(0.0, (busy - busy_before - ours) / span * 100)
                busy_before, cpu_before, at_before = busy, cpu, sampled
                t = now - first_post
                log(
                    f"  t={t:5.0f} created {len(client.ids):5d} ({len(client.ids) / t:5.1f}/s)"
                    f" scheduled {counts.get('scheduled', 0):5d}"
                    f" ({counts.get('scheduled', 0) / t:5.1f}/s) | "
                    + " ".join(
                        f"{s[:4]} {n}" for s, n in sorted(counts.items()) if s != "scheduled"
                    )
                    + " | q "
                    + " ".join(f"{s[:4]} {v}+{nv}" for s, (v, nv) in queue_depths.items())
                    + " | cpu "
                    + " ".join(f"{k.removeprefix('worker-')[:6]} {v:.0f}" for k, v in used.items())
                    + f" | kills {sum(faults.kills.values())} pauses {sum(faults.pauses.values())}"
                    + f" | load {os.getloadavg()[0]:.1f}"
                )
                next_progress += PROGRESS_EVERY
            time.sleep(2 if posted_at is not None and remaining <= 300 else 0.5)

        faults.stop.set()
        if faults.thread.is_alive():
            faults.thread.join(timeout=10)
        faults.resume_due(time.monotonic(), all_of_them=True)
        end = time.monotonic()
        pool.shutdown(wait=False, cancel_futures=True)
        drained = drained_at is not None
        log(
            f"\n{'drained' if drained else 'NOT drained'} after "
            f"{(drained_at or end) - first_post:.1f} s (deadline {args.deadline_minutes:g} min)"
        )

        # The verdict, from every created order's stored history.
        with client.lock:
            ids = dict(client.ids)
        orders = {o.id: o for o in repo.get_many(list(ids.values()))}
        lost = [i for i in ids.values() if i not in orders or str(orders[i].status) != "scheduled"]
        twice = []
        for order in orders.values():
            moves = Counter(str(h.to_status) for h in order.history if h.from_status != h.to_status)
            if any(n > 1 for n in moves.values()):
                twice.append((order.id, dict(moves)))
        all_dlqs = {**dead_letter_queues, **other_dlqs}
        dead = {s: sum(stack.depth(url)) for s, url in all_dlqs.items()}
        final_depths = depths({**queues, **other_queues})
        last_created = max(client.created_at) if client.created_at else first_post
        drain_seconds = (drained_at or end) - first_post
        meter.sample(role_pids())
        cpu = meter.totals()
        span = end - first_post
        log(f"  created {len(ids)} of {args.orders} ({dict(client.outcomes)})")
        for line in client.failed[:5]:
            log(f"    failed: {line}")
        log(
            f"  created/s {len(ids) / max(last_created - first_post, 1e-9):.1f} (first POST to "
            f"last 201: {last_created - first_post:.1f} s); scheduled/s "
            f"{(len(ids) - len(lost)) / drain_seconds:.1f} (to {'drained' if drained else 'end'})"
        )
        log(f"  lost {len(lost)}" + (f" (e.g. {lost[:3]})" if lost else ""))
        log(f"  applied twice {len(twice)}" + (f" (e.g. {twice[:3]})" if twice else ""))
        log(f"  dead letters {sum(dead.values())} {dead}")
        log(f"  queues at the end (visible, in flight): {final_depths}")
        log(
            f"  faults: kills {dict(faults.kills)}, pauses {dict(faults.pauses)} "
            f"({faults.paused_seconds:.0f} s stopped in all), lives {dict(faults.lives)}, "
            f"exits we did not cause {dict(faults.crashes)}"
        )
        log(
            "  CPU over the run, % of one core: "
            + ", ".join(f"{k} {v / span * 100:.0f}" for k, v in sorted(cpu.items()))
        )
        load = os.getloadavg()
        log(f"  load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        log(
            json.dumps(
                {
                    "orders": args.orders,
                    "created": len(ids),
                    "drained": drained,
                    "drain_seconds": round(drain_seconds, 1),
                    "target_seconds": args.target_minutes * 60,
                    "target_met": drained and drain_seconds <= args.target_minutes * 60,
                    "lost": len(lost),
                    "applied_twice": len(twice),
                    "dead_letters": sum(dead.values()),
                    "kills": sum(faults.kills.values()),
                    "pauses": sum(faults.pauses.values()),
                    "kills_by_role": dict(faults.kills),
                    "pauses_by_role": dict(faults.pauses),
                    "created_per_s": round(len(ids) / max(last_created - first_post, 1e-9), 2),
                    "scheduled_per_s": round((len(ids) - len(lost)) / drain_seconds, 2),
                    "client": dict(client.outcomes),
                    "concurrency": args.concurrency,
                    "seed": args.seed,
                    "engine": where.engine,
                    "sns_sqs": where.services,
                    "load_average_end": round(load[0], 2),
                }
            )
        )
    finally:
        if faults is not None:
            faults.stop.set()
            if faults.thread.is_alive():
                faults.thread.join(timeout=30)
            faults.resume_due(time.monotonic(), all_of_them=True)
        processes.stop_all()
        if engines is not None:
            engines.__exit__(None, None, None)  # stops DynamoDB Local


if __name__ == "__main__":
    main()

"""Event relay throughput: events/s one relay publishes from a backlog, one PublishBatch call
at a time against EVENT_RELAY_PUBLISH_CONCURRENCY calls in flight, side by side.

    .venv/bin/python bench/relay.py [--events 1500 --rounds 3 --concurrency 8]

The relay is the one publisher per table, so its rate caps the whole system's. moto answers
from this machine's two cores, so calls in flight only compete for them; ``--rtt-ms`` adds a
network round trip to each PublishBatch call, which is what parallel calls hide on AWS. Each round
gets a fresh orders table whose stream holds N order.created events (written before the
relay starts), and ends when the relay has published all N to the stack's topic, which fans
out to the status queues through the filter policies, as in production. Rounds alternate.

    .venv/bin/python bench/relay.py --restarts [--call-ms 1000 --duration 150 --orders 1000]

``--restarts`` measures a relay that keeps being killed: it starts a relay process
(``EventRelay.run`` with the container's wiring and checkpoints in the table) on a backlog of
N order creations, kills it (SIGKILL: no clean shutdown) after 10 to 30 seconds (seeded), starts
another, for ``--duration`` seconds of lifetimes. Every DynamoDB and SNS call of the relay
takes ``--call-ms`` longer (the emulator's DynamoDB serves one request at a time, so with the
whole portal running each call waits its turn). It reports, per life, when (from the process's
spawn) the relay first read the stream and first saved a checkpoint, and in all: events
published, distinct, published again, and the most copies of one event.
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

from bench.create import EXAMPLE  # noqa: E402
from tests.support import AwsStack, Processes, start_emulator  # noqa: E402

STUB_RESPONSE = (
    '<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
    "<PublishBatchResult><Successful>{members}</Successful><Failed/></PublishBatchResult>"
    "<ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></PublishBatchResponse>"
)


def start_sns_stub(delay: float) -> str:
    """An SNS endpoint that accepts every PublishBatch entry after ``delay`` seconds."""
    import threading
    import uuid as uuid_module
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            ids = [v[0] for k, v in form.items() if k.endswith(".Id")]
            members = "".join(
                f"<member><Id>{i}</Id><MessageId>{uuid_module.uuid4()}</MessageId></member>"
                for i in ids
            )
            time.sleep(delay)
            body = STUB_RESPONSE.format(members=members).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def relay_child() -> None:
    """One relay life (``--relay-child``): ``manage.py relay_events`` with slowed calls,
    reporting its first stream read and first checkpoint (seconds since spawn) and what it
    published."""
    spawned = float(os.environ["BENCH_SPAWNED_AT"])
    published_log = open(os.environ["BENCH_PUBLISHED_LOG"], "a")  # noqa: SIM115 - until killed
    delay = float(os.environ.get("BENCH_CALL_MS", "0")) / 1000
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from orders.events.publisher import SnsPublisher
    from orders.repository.checkpoints import DynamoCheckpoints
    from portal import container

    def report(what: str) -> None:
        print(f"{what} {time.time() - spawned:.2f}", flush=True)

    def slow(**_: object) -> None:
        time.sleep(delay)

    for service in ("dynamodb", "sns"):  # the clients the relay is built with, cached
        container.client(service).meta.events.register("before-send", slow)
    first: set[str] = set()

    def once(what: str) -> None:
        if what not in first:
            first.add(what)
            report(what)

    container.client("dynamodbstreams").meta.events.register(
        "after-call.dynamodbstreams.GetRecords", lambda **_: once("first-read")
    )
    save, publish = DynamoCheckpoints.save, SnsPublisher.publish

    def saving(self, *args, **kwargs):
        save(self, *args, **kwargs)
        once("first-checkpoint")

    def publishing(self, messages):
        publish(self, messages)
        published_log.write("".join(m.event_id + "\n" for m in messages))
        published_log.flush()

    DynamoCheckpoints.save, SnsPublisher.publish = saving, publishing
    call_command("relay_events")  # as `python -m portal.role relay` runs it


def orders_checkpointed(stack: AwsStack) -> int:
    """How many order creations the relay's checkpoint is past (its progress, which a kill
    keeps; what it published past it is published again)."""
    import boto3

    from orders.repository.checkpoints import DynamoCheckpoints

    streams = boto3.client(
        "dynamodbstreams", endpoint_url=stack.dynamodb_endpoint, region_name="us-east-1"
    )
    arn = stack.dynamodb.describe_table(TableName=stack.resources.table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    position, _ = DynamoCheckpoints(stack.dynamodb, stack.resources.table).load(
        arn.split(":table/", 1)[-1], shard["ShardId"]
    )
    if position is None:
        return 0
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    count = 0
    while iterator:
        records = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in records["Records"]:
            change = record["dynamodb"]
            if int(change["SequenceNumber"]) > int(position):
                return count
            if record["eventName"] == "INSERT" and change["Keys"]["pk"]["S"].startswith("ORDER#"):
                count += 1
        if not records["Records"]:
            return count
        iterator = records.get("NextShardIterator")
    return count


def restarts(args: argparse.Namespace) -> None:
    import collections
    import random
    import signal
    import subprocess
    import tempfile

    from orders.repository.dynamodb import DynamoOrderRepository
    from tests.integration.factories import new_order

    random.seed(args.seed)
    processes = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="relay-restarts-"))
    published_log = workdir / "published.txt"
    try:
        endpoint = start_emulator(processes, "relay-bench-emulator")
        stack = AwsStack.provision(endpoint, f"restarts-{uuid.uuid4().hex[:6]}")
        orders = DynamoOrderRepository(
            stack.dynamodb, stack.resources.table, cursor_secret=b"bench"
        )

        def write(_: int) -> None:
            order, _event, message = new_order()
            orders.add(order, message)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, range(args.orders)))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1",
            "ORDERS_RESOURCE_PREFIX": stack.resources.prefix,
            "METRICS_PORT": "0",
            "PYTHONUNBUFFERED": "1",
            "BENCH_CALL_MS": str(args.call_ms),
            "BENCH_PUBLISHED_LOG": str(published_log),
        }
        lives: list[tuple[float, dict[str, float]]] = []
        alive = 0.0
        while alive < args.duration:
            life = random.uniform(10, 30)
            log = workdir / f"life-{len(lives) + 1}.log"
            with log.open("w") as out:
                child = subprocess.Popen(
                    [sys.executable, __file__, "--relay-child"],
                    env={**env, "BENCH_SPAWNED_AT": str(time.time())},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            time.sleep(life)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            alive += life
            marks = {}
            for line in log.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name in ("first-read", "first-checkpoint"):
                    marks[name] = float(value)
            lives.append((life, marks))
            print(
                f"  life {len(lives)}: {life:4.1f} s, first read "
                f"{marks.get('first-read', float('nan')):5.2f} s, first checkpoint "
                f"{marks.get('first-checkpoint', float('nan')):5.2f} s",
                flush=True,
            )
        events = published_log.read_text().split() if published_log.exists() else []
        done = orders_checkpointed(stack)
        copies = collections.Counter(events)
        saved = [m["first-checkpoint"] for _, m in lives if "first-checkpoint" in m]
        print(
            f"\nrelay killed after 10-30 s, {len(lives)} lives ({alive:.0f} s), every DynamoDB "
            f"and SNS call {args.call_ms:g} ms slower, a backlog of {args.orders} orders"
        )
        print(
            f"  first checkpoint in {len(saved)} of {len(lives)} lives"
            + (f", after {min(saved):.1f}-{max(saved):.1f} s" if saved else "")
            + f"; at the end the checkpoint is past {done} of the {args.orders} orders"
        )
        print(
            f"  published {len(events)} events, {len(copies)} distinct, "
            f"{len(events) - len(copies)} again, at most {max(copies.values(), default=0)} "
            f"copies of one (logs in {workdir})"
        )
    finally:
        processes.stop_all()


def main() -> None:
    if "--relay-child" in sys.argv:
        relay_child()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1500, help="backlog per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight")
    parser.add_argument(
        "--sns",
        choices=["moto", "stub"],
        default="moto",
        help="moto: the emulator's SNS, which also delivers to the queues on this machine's "
        "CPU; stub: a local HTTP endpoint that accepts every PublishBatch after --rtt-ms, to "
        "measure the relay itself (reads, decoding, signing, calls) as on AWS",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="added to every PublishBatch call, to model AWS's network round trip "
        "(moto answers from this machine's CPU, so calls in flight only compete for it)",
    )
    parser.add_argument(
        "--restarts", action="store_true", help="a relay killed every 10-30 s (see above)"
    )
    parser.add_argument("--call-ms", type=float, default=1000.0, help="--restarts: added per call")
    parser.add_argument("--duration", type=float, default=150.0, help="--restarts: lifetimes, s")
    parser.add_argument("--orders", type=int, default=1000, help="--restarts: backlog")
    parser.add_argument("--seed", type=int, default=1, help="--restarts: of the lifetimes")
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    if args.restarts:
        restarts(args)
        return
    from orders.domain import rules
    from orders.domain.model import Actor, new_order_id
    from orders.domain.rules import OrderInput
    from orders.events.contract import to_message
    from orders.events.publisher import SnsPublisher
    from orders.events.relay import EventRelay, MemoryCheckpoints
    from orders.repository.dynamodb import DynamoOrderRepository
    from orders.repository.stream_images import event_from_image

    processes = Processes()
    try:
        endpoint = start_emulator(processes, "relay-bench-emulator")
        stack = AwsStack.provision(endpoint, f"relay-{uuid.uuid4().hex[:6]}")
        import boto3

        streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
        sns = stack.sns
        if args.sns == "stub":
            sns_endpoint = start_sns_stub(args.rtt_ms / 1000)
            sns = boto3.client("sns", endpoint_url=sns_endpoint, region_name="us-east-1")
        elif args.rtt_ms:

            def round_trip(**_: object) -> None:
                time.sleep(args.rtt_ms / 1000)

            sns.meta.events.register("before-send.sns.PublishBatch", round_trip)

        def backlog(events: int) -> str:
            """A fresh table whose stream holds ``events`` order.created events."""
            table = stack.fresh_table("relay")
            repo = DynamoOrderRepository(stack.dynamodb, table, cursor_secret=b"bench")
            actor = Actor.integrator("bench")

            def write(_: int) -> None:
                order, event = rules.create_order(
                    OrderInput(**EXAMPLE),
                    order_id=new_order_id(),
                    integrator="bench",
                    actor=actor,
                    now=datetime.now(UTC),
                )
                repo.add(order, to_message(event))

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(write, range(events)))
            return stack.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]

        def one_round(concurrency: int, events: int) -> float:
            arn = backlog(events)
            relay = EventRelay(
                streams=streams,
                stream_arn=lambda: arn,
                publisher=SnsPublisher(
                    sns, lambda: stack.topic_arn, fifo=False, concurrency=concurrency
                ),
                checkpoints=MemoryCheckpoints(),
                decode=event_from_image,
                batch_limit=1000,
            )
            started = time.perf_counter()
            published = 0
            while published < events:
                published += relay.poll().published
            rate = events / (time.perf_counter() - started)
            # moto slows down as its queues fill: empty them between rounds.
            for status in stack.resources.queue_names:
                stack.drain(stack.status_queue(status))
            return rate

        contenders = (1, args.concurrency)
        for c in contenders:
            one_round(c, 50)  # warm up
        results: dict[int, list[float]] = {c: [] for c in contenders}
        for _ in range(args.rounds):
            for c in contenders:
                results[c].append(one_round(c, args.events))
        print(
            f"\nrelay, {args.rounds} alternating rounds, a backlog of {args.events} events, "
            f"SNS {args.sns}, {args.rtt_ms:g} ms added per PublishBatch"
        )
        median = {c: statistics.median(v) for c, v in results.items()}
        for c in contenders:
            rounds = ", ".join(f"{v:.0f}" for v in results[c])
            print(f"  {c} call(s) in flight: {median[c]:7.0f} events/s (rounds: {rounds})")
        print(f"  {args.concurrency} in flight / 1: {median[args.concurrency] / median[1]:.2f}x")
    finally:
        processes.stop_all()


if __name__ == "__main__":
    main()

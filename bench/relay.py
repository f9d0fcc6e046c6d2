"""Event relay throughput: events/s one relay publishes from a backlog, one PublishBatch call
at a time against EVENT_RELAY_PUBLISH_CONCURRENCY calls in flight, side by side.

    .venv/bin/python bench/relay.py [--events 1500 --rounds 3 --concurrency 8]

The relay is the one publisher per table, so its rate caps the whole system's. moto answers
from this machine's two cores, so calls in flight only compete for them; ``--rtt-ms`` adds a
network round trip to each PublishBatch call, which is what parallel calls hide on AWS. Each round
gets a fresh orders table whose stream holds N order.created events (written before the
relay starts), and ends when the relay has published all N to the stack's topic, which fans
out to the status queues through the filter policies, as in production. Rounds alternate.
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


def main() -> None:
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
    args = parser.parse_args()

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from orders.domain import rules
    from orders.domain.model import Actor, new_order_id
    from orders.domain.rules import OrderInput
    from orders.events.contract import to_message
    from orders.events.publisher import SnsPublisher
    from orders.events.relay import EventRelay, MemoryCheckpoints
    from orders.repository.dynamodb import DynamoOrderRepository, event_from_image

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

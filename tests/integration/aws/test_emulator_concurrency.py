"""The emulator applies DynamoDB requests one at a time, so version checks hold under
concurrency exactly as on DynamoDB, while SQS long polls are not held behind that lock."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3

from orders.domain.errors import ConcurrencyConflict
from orders.domain.model import Actor
from orders.domain.workflow import Status
from orders.repository.dynamodb import DynamoOrderRepository
from tests.integration.factories import moved, new_order

WRITERS = 16


def test_only_one_of_many_concurrent_moves_with_the_same_version_wins(aws):
    repo = DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"s")
    order, _, message = new_order()
    repo.add(order, message)
    start = threading.Barrier(WRITERS)

    def attempt(i: int) -> str:
        # Each writer has its own client (own connections) so requests really overlap.
        client = boto3.client(
            "dynamodb", endpoint_url=aws.dynamodb_endpoint, region_name="us-east-1"
        )
        mine = DynamoOrderRepository(client, aws.resources.table, cursor_secret=b"s")
        target = Status.ACCEPTED if i % 2 else Status.REJECTED
        new, _, m = moved(
            order, target, reason=f"writer {i}" if target == Status.REJECTED else None
        )
        start.wait()
        try:
            mine.save_move(new, m, expected_status="received", expected_version=1)
            return "won"
        except ConcurrencyConflict:
            return "lost"

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(attempt, range(WRITERS)))

    assert results.count("won") == 1
    stored = repo.get(order.id)
    assert stored.version == 2
    assert len(stored.history) == 2  # exactly one move recorded


def test_concurrent_read_modify_write_loses_no_update(aws):
    """Optimistic locking as callers use it: read, move, retry on conflict."""
    repo = DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"s")
    order, _, message = new_order(category="hvac")
    repo.add(order, message)
    path = [Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS, Status.COMPLETED]
    conflicts = []

    def advance() -> None:
        client = boto3.client(
            "dynamodb", endpoint_url=aws.dynamodb_endpoint, region_name="us-east-1"
        )
        mine = DynamoOrderRepository(client, aws.resources.table, cursor_secret=b"s")
        while True:
            current = mine.get(order.id)
            if current.status == Status.COMPLETED:
                return
            target = path[path.index(current.status) + 1] if current.status in path else path[0]
            kwargs = {"team": "hvac-crew"} if target == Status.SCHEDULED else {}
            new, _, m = moved(current, target, actor=actor_for(target), **kwargs)
            try:
                mine.save_move(
                    new, m, expected_status=current.status, expected_version=current.version
                )
            except ConcurrencyConflict:
                conflicts.append(1)

    threads = [threading.Thread(target=advance) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    stored = repo.get(order.id)
    assert stored.status == Status.COMPLETED
    assert stored.version == 5
    assert [h.to_status for h in stored.history] == [Status.RECEIVED, *path]


def actor_for(target: Status) -> Actor:
    if target in (Status.ACCEPTED, Status.SCHEDULED):
        return Actor.system("worker:test")
    return Actor.staff("dispatcher")


def test_long_polls_do_not_hold_up_dynamodb(aws):
    queue = aws.dead_letter_queue("completed")  # stays empty: every poll waits its full time
    sqs = boto3.client("sqs", endpoint_url=aws.endpoint, region_name="us-east-1")
    pollers = [
        threading.Thread(target=lambda: sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=3))
        for _ in range(4)
    ]
    for poller in pollers:
        poller.start()
    slowest = 0.0
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:  # DynamoDB calls all through the pollers' wait
        started = time.monotonic()
        aws.dynamodb.describe_table(TableName=aws.resources.table)
        slowest = max(slowest, time.monotonic() - started)
    assert all(p.is_alive() for p in pollers), "the long polls should still be waiting"
    assert slowest < 1.0
    for poller in pollers:
        poller.join(timeout=10)

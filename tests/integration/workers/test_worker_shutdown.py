"""A worker that stops (scale-in, a new release) strands nothing: messages it holds go back
to their queue at once, as the very event SNS delivered, and SIGTERM ends it gracefully."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest
from kombu import Connection

from tests.conftest import unique_prefix
from tests.integration.factories import new_order
from tests.support import AwsStack, Processes, SlowDynamoProxy, wait_for
from workers.queues import status_queues, task_name
from workers.transport import EventTransport


@pytest.fixture
def channel(aws):
    endpoint = urlsplit(aws.endpoint)
    connection = Connection(
        f"sqs://{endpoint.hostname}:{endpoint.port}",
        transport=EventTransport,
        transport_options={
            "region": "us-east-1",
            "is_secure": False,
            "wait_time_seconds": 0,
            "visibility_timeout": 30,
            "predefined_queues": status_queues(),
        },
    )
    channel = connection.channel()
    try:
        yield channel
    finally:
        connection.release()


def put_event(aws, status: str = "received") -> dict:
    _, _, message = new_order(external_reference=f"S-{uuid.uuid4().hex[:8]}")
    queue = aws.status_queue(status)
    aws.drain(queue)
    aws.sqs.send_message(QueueUrl=queue, MessageBody=message.body)
    return json.loads(message.body)


def test_a_message_given_back_is_visible_again_at_once_and_unchanged(aws, channel):
    event = put_event(aws)
    queue_name = aws.resources.queue_name("received")

    message = wait_for(lambda: channel.basic_get(queue_name, no_ack=False), timeout=5)
    assert message.headers["task"] == task_name("received")
    assert aws.receive(aws.status_queue("received")) == []  # hidden while held

    message.requeue()  # what Celery does to a cancelled task at the end of a soft shutdown

    again = wait_for(lambda: aws.receive(aws.status_queue("received")), timeout=2)
    assert [json.loads(m["Body"]) for m in again] == [event]  # the raw event, not a copy
    assert int(again[0]["Attributes"]["ApproximateReceiveCount"]) == 2


def test_messages_still_held_when_the_channel_closes_return_to_the_queue(aws, channel):
    event = put_event(aws)
    queue_name = aws.resources.queue_name("received")
    wait_for(lambda: channel.basic_get(queue_name, no_ack=False), timeout=5)

    channel.close()  # a worker's consumer shutting down with unacknowledged deliveries

    again = wait_for(lambda: aws.receive(aws.status_queue("received")), timeout=2)
    assert [json.loads(m["Body"]) for m in again] == [event]


def test_sigterm_stops_an_idle_worker_promptly_and_cleanly(emulator):
    # Resources of its own: the shared stack's queues may hold other tests' events, and a
    # worker handling one when SIGTERM comes is not idle (it waits out the soft shutdown).
    aws = AwsStack.provision(emulator, unique_prefix("idle"))
    processes = Processes()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **aws.endpoints,
        "AWS_REGION": "us-east-1",
        "ORDERS_RESOURCE_PREFIX": aws.resources.prefix,
        "SQS_WAIT_TIME_SECONDS": "2",
        "WORKER_SOFT_SHUTDOWN_TIMEOUT": "20",
        "PYTHONUNBUFFERED": "1",
    }
    name = f"shutdown-{uuid.uuid4().hex[:6]}"
    try:
        worker = processes.start(
            name, [sys.executable, "-m", "portal.role", "worker", "rejected"], env
        )
        processes.wait_until_ready([name])
        started = time.monotonic()
        os.kill(worker.pid, signal.SIGTERM)
        code = worker.wait(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        processes.stop_all()
    log = _read(processes, name)
    assert code == 0, log[-2000:]
    # Idle: no soft-shutdown wait (only the long poll in progress has to end).
    assert elapsed < 10, f"took {elapsed:.1f}s"
    # SIGTERM was remapped to Celery's cold shutdown, which begins with the soft (waiting) phase.
    assert "Cold shutdown (MainProcess)" in log, log[-2000:]


def _read(processes: Processes, name: str) -> str:
    from tests.support import ARTIFACTS

    return (ARTIFACTS / f"{name}.log").read_text(errors="replace")


def test_a_worker_looks_up_only_its_own_queue(aws, settings):
    """Its IAM role may reach no other queue (deploy/aws), so it must not ask for them."""
    settings.ORDERS_WORKER_STATUS = "accepted"
    assert list(status_queues()) == [aws.resources.queue_name("accepted")]
    settings.ORDERS_WORKER_STATUS = ""
    assert len(status_queues()) == len(aws.resources.queue_names)


@pytest.fixture
def slow_worker(emulator, django_db_setup, django_db_blocker):
    """A `received` worker on resources of its own (so its queue holds only this test's
    messages), whose DynamoDB calls go through a proxy that can slow them, sharing the test
    database with this process (its tests are marked django_db, so that pytest-django creates
    that database even when they run alone)."""
    from django.db import connection

    from tests.e2e.conftest import database_url

    with django_db_blocker.unblock():
        db_url = database_url(connection.settings_dict)
    aws = AwsStack.provision(emulator, unique_prefix("slow"))
    proxy = SlowDynamoProxy(aws.endpoint, aws.dynamodb_endpoint)
    processes = Processes()
    name = f"slow-{uuid.uuid4().hex[:6]}"

    def start(soft_timeout: float) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": db_url,
            "AWS_ENDPOINT_URL": proxy.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint,
            "AWS_REGION": "us-east-1",
            "ORDERS_RESOURCE_PREFIX": aws.resources.prefix,
            "SQS_WAIT_TIME_SECONDS": "1",
            "WORKER_CONCURRENCY": "1",
            "WORKER_SOFT_SHUTDOWN_TIMEOUT": str(soft_timeout),
            "PYTHONUNBUFFERED": "1",
        }
        worker = processes.start(
            name, [sys.executable, "-m", "portal.role", "worker", "received"], env
        )
        processes.wait_until_ready([name])
        return worker

    try:
        yield aws, proxy, start, lambda: _read(processes, name)
    finally:
        processes.stop_all()
        proxy.close()


def _stored_order(aws) -> tuple[str, str]:
    """An order stored in `received`, its event on the received queue; (order id, queue)."""
    from orders.repository.dynamodb import DynamoOrderRepository

    order, _, message = new_order(external_reference=f"SD-{uuid.uuid4().hex[:8]}")
    DynamoOrderRepository(aws.dynamodb, aws.resources.table, cursor_secret=b"s").add(order, message)
    queue = aws.status_queue("received")
    aws.drain(queue)
    aws.sqs.send_message(QueueUrl=queue, MessageBody=message.body)
    return order.id, queue


def _status(aws, order_id: str) -> str:
    from orders.repository.items import order_key

    item = aws.dynamodb.get_item(
        TableName=aws.resources.table, Key=order_key(order_id), ConsistentRead=True
    )["Item"]
    return item["status"]["S"]


def stop_mid_task(slow_worker, *, soft_timeout: float, release_after: str):
    """Start the worker and hold its DynamoDB calls; once its handler is waiting on one, send
    SIGTERM, and let the handler go on only when the worker's log shows ``release_after``.
    Returns (stack, order id, queue, exit code, log, seconds from the release to the exit)."""
    aws, proxy, start, log = slow_worker
    worker = start(soft_timeout=soft_timeout)
    proxy.hold()
    order_id, queue = _stored_order(aws)
    wait_for(lambda: proxy.held > 0, timeout=20, what="the handler to wait on DynamoDB")
    os.kill(worker.pid, signal.SIGTERM)
    wait_for(lambda: release_after in log(), timeout=30, what=repr(release_after))
    proxy.release()
    released = time.monotonic()
    code = worker.wait(timeout=60)
    return aws, order_id, queue, code, log(), time.monotonic() - released


@pytest.mark.django_db(transaction=True)
def test_sigterm_lets_the_task_in_flight_finish_and_the_worker_exits_right_after(slow_worker):
    aws, order_id, queue, code, log, exit_after = stop_mid_task(
        slow_worker, soft_timeout=30, release_after="Initiating Soft Shutdown"
    )

    assert code == 0, log[-2000:]
    # Not the whole soft-shutdown timeout (30 s): Celery's own wait sleeps all of it.
    assert exit_after < 10, f"exited {exit_after:.1f}s after its task could finish"
    assert _status(aws, order_id) != "received", log[-4000:]  # reviewed: moved on
    assert aws.depth(queue) == (0, 0), "the handled message should be deleted"


@pytest.mark.django_db(transaction=True)
def test_a_task_running_past_the_soft_timeout_finishes_and_the_worker_then_exits(slow_worker):
    """Threads cannot be interrupted: past the soft timeout the worker waits for the task
    (the orchestrator's grace period bounds it) instead of failing half way through its
    shutdown, as Celery's own thread pool does (NotImplementedError)."""
    aws, order_id, queue, code, log, _ = stop_mid_task(
        slow_worker, soft_timeout=1, release_after="still running after the soft-shutdown timeout"
    )

    assert code == 0, log[-2000:]
    assert "NotImplementedError" not in log
    assert _status(aws, order_id) != "received"
    assert aws.depth(queue) == (0, 0)

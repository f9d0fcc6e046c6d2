"""A worker that stops (scale-in, a new release) strands nothing: messages it holds go back
to their queue at once, as the very event SNS delivered, and SIGTERM ends it gracefully."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from urllib.parse import urlsplit

import pytest
from kombu import Connection

from tests.integration.factories import new_order
from tests.support import Processes, wait_for
from workers.queues import status_queues
from workers.transport import EventTransport, task_name


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


def test_sigterm_stops_an_idle_worker_promptly_and_cleanly(aws):
    processes = Processes()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "AWS_ENDPOINT_URL": aws.endpoint,
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


def test_a_worker_looks_up_only_its_own_queue(aws, monkeypatch):
    """Its IAM role may reach no other queue (deploy/aws), so it must not ask for them."""
    monkeypatch.setenv("ORDERS_WORKER_STATUS", "accepted")
    assert list(status_queues()) == [aws.resources.queue_name("accepted")]
    monkeypatch.delenv("ORDERS_WORKER_STATUS")
    assert len(status_queues()) == len(aws.resources.queue_names)

"""Baseline consumer for bench/capacity.py: the same handler, no Celery.

A bare boto3 loop — threads long-polling one status queue, calling ``handle_delivery`` and
deleting the message — is the least a consumer can do. Comparing a Celery worker (kombu's SQS
transport, our EventChannel) against it on the same machine, in the same run, shows what the
framework costs per event.

    python bench/plain_consumer.py <status> <threads>
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from celery.exceptions import Reject  # noqa: E402

from portal import container  # noqa: E402
from workers.tasks import handle_delivery  # noqa: E402


def consume(status: str, stop: threading.Event) -> None:
    sqs = container.client("sqs")
    name = container.resources().queue_name(status)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    while not stop.is_set():
        response = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=1,  # like a Celery worker with prefetch multiplier 1
            WaitTimeSeconds=1,
            AttributeNames=["ApproximateReceiveCount"],
        )
        for message in response.get("Messages", []):
            delivery = {
                "message_id": message["MessageId"],
                "queue": name,
                "queue_url": url,
                "receive_count": int(message["Attributes"]["ApproximateReceiveCount"]),
                "group_id": None,
            }
            try:
                handle_delivery(status, message["Body"], delivery)
            except Reject:
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def main() -> None:
    status, threads = sys.argv[1], int(sys.argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workers = [
        threading.Thread(target=consume, args=(status, stop), daemon=True) for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    print(f"plain consumer for {status} ready.", flush=True)
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()

"""kombu's SQS transport, taught to read our domain events.

SNS delivers each event to its status queue as the raw CloudEvents JSON (raw message
delivery), not as a Celery message. This channel presents every message it receives from a
status queue to Celery as a call of that status's task, with the untouched body and the SQS
delivery facts as arguments. Nothing is re-published: the worker consumes the very queue SNS
fills, and acks delete that SQS message. Message attributes are not needed here: the queue
says which status the event is for, and the body says the rest. Everything else (long
polling, acks, rejects, the retry backoff policy) is kombu's own.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Any

from kombu.transport.SQS import Channel as SQSChannel
from kombu.transport.SQS import Transport as SQSTransport

log = logging.getLogger(__name__)


def task_name(status: str) -> str:
    return f"orders.handle.{status}"


class EventChannel(SQSChannel):
    @cached_property
    def predefined_queues(self) -> dict[str, dict[str, Any]]:
        """The status queues, their URLs looked up once (read-only ``GetQueueUrl``), with a
        visibility backoff per delivery for transient failures. Predefined queues also stop
        kombu from creating queues of its own: provisioning owns them."""
        configured = self.transport_options.get("predefined_queues")
        if configured:
            return configured
        from workers.queues import status_queues

        return status_queues()

    def _message_to_python(self, message: dict[str, Any], queue_name: str, q_url: str) -> Any:
        from workers.queues import status_for_queue

        status = status_for_queue(queue_name)
        if status is None:
            return super()._message_to_python(message, queue_name, q_url)
        return self._as_task_message(message, queue_name, q_url, status)

    def _as_task_message(
        self, message: dict[str, Any], queue_name: str, q_url: str, status: str
    ) -> dict[str, Any]:
        body = message.get("Body", "")
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        system = message.get("Attributes") or {}
        delivery = {
            "message_id": message.get("MessageId"),
            "queue": queue_name,
            "queue_url": q_url,
            "receive_count": int(system.get("ApproximateReceiveCount", 1)),
            "group_id": system.get("MessageGroupId"),
        }
        task_id = delivery["message_id"] or message["ReceiptHandle"][:64]
        name = task_name(status)
        return {
            "body": json.dumps([[], {"body": body, "delivery": delivery}, {}]),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": name,
                "id": task_id,
                "root_id": task_id,
                "parent_id": None,
                "group": None,
                "retries": delivery["receive_count"] - 1,
                "eta": None,
                "expires": None,
                "timelimit": [None, None],
                "argsrepr": "()",
                "kwargsrepr": f"{{event on {queue_name}, {len(body)} bytes}}",
                "origin": "sns",
                "ignore_result": True,
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": "",
                "delivery_mode": 2,
                "priority": 0,
                "delivery_tag": message["ReceiptHandle"],
                "delivery_info": {
                    "exchange": "",
                    "routing_key": queue_name,
                    "sqs_message": message,
                    "sqs_queue": q_url,
                },
            },
        }


class EventTransport(SQSTransport):
    Channel = EventChannel

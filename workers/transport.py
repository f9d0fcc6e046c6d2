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

from workers.queues import status_for_queue, status_queues, task_name

log = logging.getLogger(__name__)


class EventChannel(SQSChannel):
    @cached_property
    def predefined_queues(self) -> dict[str, dict[str, Any]]:
        """The status queues, their URLs looked up once (read-only ``GetQueueUrl``), with a
        visibility backoff per delivery for transient failures. Predefined queues also stop
        kombu from creating queues of its own: provisioning owns them."""
        configured = self.transport_options.get("predefined_queues")
        if configured:
            return configured
        return status_queues()

    def _message_to_python(self, message: dict[str, Any], queue_name: str, q_url: str) -> Any:
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

    def _restore(self, message: Any, *args: Any, **kwargs: Any) -> None:
        """Give an unfinished message back to its queue (a worker shutting down, a task
        cancelled): make it visible again now. kombu's default would send a copy in Celery's
        format, which is not the raw event SNS delivered, and leave the original hidden."""
        info = message.delivery_info
        sqs_message, queue_url = info.get("sqs_message"), info.get("sqs_queue")
        if sqs_message is None or queue_url is None:
            super()._restore(message, *args, **kwargs)
            return
        queue = self.canonical_queue_name(info.get("routing_key", ""))
        try:
            self.sqs(queue=queue).change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=sqs_message["ReceiptHandle"],
                VisibilityTimeout=0,
            )
        except Exception as exc:  # noqa: BLE001 - it returns anyway when its timeout ends
            log.warning(
                "could not return message %s to %s at once (%s); it returns when its "
                "visibility timeout ends",
                sqs_message.get("MessageId"),
                queue,
                exc,
            )


class EventTransport(SQSTransport):
    Channel = EventChannel

"""The status queues and their dead-letter queues as the system uses them.

Every SQS call made on them goes through ``StatusQueues``: looking up URLs, depth, the age of
the oldest message (CloudWatch), peeking at dead letters, redriving or discarding them and
dead-lettering a message with why it failed. The dead-letter attributes are written and read
here only, so the worker that writes them and the pipeline page that reads them cannot disagree.
``portal.container.status_queues()`` builds the one instance a process uses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws.resources import Resources
from kernel.clock import isoformat

#: Receive calls a targeted redrive makes at most (10 messages each).
PEEK_BATCHES = 10
#: How long a peek hides what it has read while it reads on (it shows them again at once).
PEEK_HIDE_SECONDS = 30
#: Receive calls "redrive all" (or "discard all") makes at most: 10,000 messages per request.
REDRIVE_ALL_BATCHES = 1000
FAILURE_REASON_MAX = 1000
#: The attributes SNS sets that a redriven message keeps (the rest are the failure's facts).
ROUTING_ATTRIBUTES = ("status", "event_type")
SQS_MOVED_IT = "moved by SQS after too many receives"


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    body: str
    reason: str
    failed_at: str
    receive_count: str
    sent_at: datetime | None
    receipt_handle: str

    @property
    def pretty_body(self) -> str:
        try:
            return json.dumps(json.loads(self.body), indent=2, sort_keys=True)
        except ValueError:
            return self.body


class StatusQueues:
    def __init__(self, sqs: Any, resources: Resources, *, cloudwatch: Any = None):
        self.sqs = sqs
        self.cloudwatch = cloudwatch
        self.resources = resources
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- lookups -----------------------------------------------------------------------------

    def url(self, name: str) -> str:
        """The queue's URL, looked up once (read-only ``GetQueueUrl``: the queues are
        provisioned, never created here)."""
        with self._lock:
            if name not in self._urls:
                self._urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            return self._urls[name]

    def queue_url(self, status: str) -> str:
        return self.url(self.resources.queue_name(status))

    def dead_letter_queue_url(self, status: str) -> str:
        return self.url(self.resources.dead_letter_queue_name(status))

    def depth(self, name: str) -> tuple[int, int]:
        """(visible, in flight) messages of the queue ``name``."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url(name),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes.get("ApproximateNumberOfMessages", 0)),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def oldest_message_age(self, queue_name: str) -> timedelta | None:
        """``ApproximateAgeOfOldestMessage`` over the last five minutes, if CloudWatch has it
        (AWS publishes it every minute; the emulator has none, so this is then unknown)."""
        if self.cloudwatch is None:
            return None
        now = datetime.now(UTC)
        try:
            points = self.cloudwatch.get_metric_statistics(
                Namespace="AWS/SQS",
                MetricName="ApproximateAgeOfOldestMessage",
                Dimensions=[{"Name": "QueueName", "Value": queue_name}],
                StartTime=now - timedelta(minutes=5),
                EndTime=now,
                Period=60,
                Statistics=["Maximum"],
            ).get("Datapoints", [])
        except Exception:  # noqa: BLE001 - a health page must show, whatever CloudWatch does
            return None
        if not points:
            return None
        latest = max(points, key=lambda p: p["Timestamp"])
        return timedelta(seconds=latest["Maximum"])

    # -- dead letters ----------------------------------------------------------------------

    def dead_letter(
        self,
        status: str,
        body: str,
        delivery: dict[str, Any],
        *,
        reason: str,
        event_type: str | None = None,
    ) -> None:
        """Send ``body`` to the dead-letter queue of ``status``'s queue with why it failed. The
        attributes mirror the ones SNS set (``status``, ``event_type``) plus the failure facts."""
        facts = {
            "status": status,
            "event_type": event_type,
            "failure_reason": reason[:FAILURE_REASON_MAX],
            "failed_queue": delivery["queue"],
            "failed_at": isoformat(datetime.now(UTC)),
        }
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in facts.items()
            if value
        }
        attributes["receive_count"] = {
            "DataType": "Number",
            "StringValue": str(delivery["receive_count"]),
        }
        kwargs: dict[str, Any] = {
            "QueueUrl": self.dead_letter_queue_url(status),
            "MessageBody": body or "(empty body)",
            "MessageAttributes": attributes,
        }
        if self.resources.fifo:
            kwargs["MessageGroupId"] = delivery.get("group_id") or "dead-letters"
            kwargs["MessageDeduplicationId"] = delivery["message_id"]
        self.sqs.send_message(**kwargs)

    def dead_letters(self, status: str, *, limit: int = 50) -> list[DeadLetter]:
        """Up to ``limit`` dead letters of a status's queue, oldest first, left in place.

        Each batch received is hidden while the next is read (so every receive brings new
        messages, however many there are), then made visible again at once: a peek, not a
        take, and a redrive right after it finds them all."""
        url = self.dead_letter_queue_url(status)
        seen: dict[str, DeadLetter] = {}
        held: list[str] = []
        try:
            for _ in range(-(-limit // 10) + 1):
                response = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(10, limit - len(seen)),
                    VisibilityTimeout=PEEK_HIDE_SECONDS,
                    MessageAttributeNames=["All"],
                    MessageSystemAttributeNames=["SentTimestamp"],
                )
                batch = response.get("Messages", [])
                held += [message["ReceiptHandle"] for message in batch]
                for message in batch:
                    seen.setdefault(message["MessageId"], read_dead_letter(message))
                if not batch or len(seen) >= limit:
                    break
        finally:
            self._show_again(url, held)
        return sorted(seen.values(), key=lambda d: d.sent_at or datetime.min.replace(tzinfo=UTC))

    def _show_again(self, url: str, receipt_handles: list[str]) -> None:
        """Visible again now (if this fails they are anyway after PEEK_HIDE_SECONDS)."""
        for start in range(0, len(receipt_handles), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for n, handle in enumerate(receipt_handles[start : start + 10])
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)

    def redrive(self, status: str, *, message_id: str | None = None) -> int:
        """Send dead letters back to the status's queue (one, or all); how many moved. Sent
        first, then deleted, so a failure in between duplicates a message rather than losing
        it. Callers record who asked (``operations.services.redrive``)."""
        source = self.queue_url(status)
        return self._take_dead_letters(
            status,
            message_id,
            lambda message: self.sqs.send_message(**self._resend(source, message)),
        )

    def discard(self, status: str, *, message_id: str | None = None) -> int:
        """Delete dead letters of the status's queue for good (one, or all); how many went.
        For a message nobody will ever want again (a forged or long-stale event): a redrive
        would only fail it again. Callers record who asked (``operations.services.discard``)."""
        return self._take_dead_letters(status, message_id, lambda message: None)

    def _take_dead_letters(
        self, status: str, message_id: str | None, keep: Callable[[dict[str, Any]], object]
    ) -> int:
        """Receive the dead letters (``message_id`` only, or all), call ``keep`` on each, then
        delete it from the dead-letter queue; how many were taken. Others seen while looking
        for one are visible again at once."""
        dead = self.dead_letter_queue_url(status)
        taken = 0
        # Bounded: one message is looked for in the first batches; "all" takes at most 10,000.
        for _ in range(PEEK_BATCHES if message_id else REDRIVE_ALL_BATCHES):
            response = self.sqs.receive_message(
                QueueUrl=dead,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["MessageGroupId"],
            )
            batch = response.get("Messages", [])
            if not batch:
                break
            for message in batch:
                if message_id and message["MessageId"] != message_id:
                    # Not the one asked for: visible again at once, for the next look.
                    self.sqs.change_message_visibility(
                        QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                    continue
                keep(message)
                self.sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
                taken += 1
            if message_id and taken:
                break
        return taken

    def _resend(self, source: str, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            name: value
            for name, value in (message.get("MessageAttributes") or {}).items()
            if name in ROUTING_ATTRIBUTES
        }
        kwargs: dict[str, Any] = {"QueueUrl": source, "MessageBody": message["Body"]}
        if attributes:
            kwargs["MessageAttributes"] = {
                k: {"DataType": v["DataType"], "StringValue": v["StringValue"]}
                for k, v in attributes.items()
            }
        if self.resources.fifo:
            kwargs["MessageGroupId"] = (message.get("Attributes") or {}).get(
                "MessageGroupId", "redriven"
            )
            kwargs["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
        return kwargs


def read_dead_letter(message: dict[str, Any]) -> DeadLetter:
    """A received dead letter, with the failure facts ``dead_letter`` attached (or SQS's own
    reason when its redrive policy moved it)."""
    attributes = message.get("MessageAttributes") or {}

    def attribute(name: str) -> str:
        return attributes.get(name, {}).get("StringValue", "")

    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        reason=attribute("failure_reason") or SQS_MOVED_IT,
        failed_at=attribute("failed_at"),
        receive_count=attribute("receive_count"),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receipt_handle=message["ReceiptHandle"],
    )

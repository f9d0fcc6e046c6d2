"""The pipeline's health as staff see it: per status, orders, queue depths and dead letters;
and the dead letters themselves, with redrive back to their queue.

Reads only what SQS reports cheaply (queue attributes) and bounded DynamoDB queries. Peeking
at dead letters receives them with a zero visibility timeout, so they stay where they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from orders import aws
from orders.domain.model import Order
from orders.domain.workflow import STATUSES, Status
from orders.resources import Resources, from_settings

PEEK_BATCHES = 10
#: Waiting orders the pipeline page lists.
BACKLOG_SHOWN = 20


@dataclass(frozen=True)
class StatusHealth:
    status: str
    orders: int
    orders_capped: bool
    visible: int
    in_flight: int
    dead_letters: int
    stuck: int
    stuck_capped: bool
    #: How long the longest-waiting order has been in this status (None: no order).
    oldest_waiting: timedelta | None = None
    #: Age of the oldest dead letter (None: none).
    oldest_dead_letter: timedelta | None = None
    #: Age of the queue's oldest message, from CloudWatch (None: no datapoint, e.g. emulator).
    oldest_message: timedelta | None = None
    #: For ``accepted`` only: the orders waiting for a team, oldest first (at most
    #: BACKLOG_SHOWN). They wait there when every team of their category is full.
    backlog: tuple[Order, ...] | None = None

    @property
    def backlog_more(self) -> bool:
        """More orders wait than the page lists."""
        return self.backlog is not None and self.orders > len(self.backlog)


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


class Pipeline:
    def __init__(
        self,
        *,
        sqs: Any = None,
        cloudwatch: Any = None,
        resources: Resources | None = None,
        service=None,
    ):
        self.sqs = sqs or aws.client("sqs")
        self.cloudwatch = cloudwatch or aws.client("cloudwatch")
        self.resources = resources or from_settings()
        self.service = service
        self._urls: dict[str, str] = {}

    def url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]

    def depth(self, name: str) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url(name),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes.get("ApproximateNumberOfMessages", 0)),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def health(self, *, stuck_after: timedelta, cap: int = 1000) -> list[StatusHealth]:
        rows = []
        for status in STATUSES:
            orders, capped = self.service.orders.count_by_status(status, cap=cap)
            stuck, stuck_capped = self.service.orders.count_stuck(
                status, changed_before=datetime.now(UTC) - stuck_after, cap=cap
            )
            visible, in_flight = self.depth(self.resources.queue_name(status))
            dead, _ = self.depth(self.resources.dead_letter_queue_name(status))
            now = datetime.now(UTC)
            oldest = self.service.orders.oldest_in_status(status)
            # SQS tells the age of a queue's oldest message only through CloudWatch; dead
            # letters can also be looked at (nobody consumes them), the live queues cannot.
            letters = self.dead_letters(status, limit=50) if dead else []
            sent = [letter.sent_at for letter in letters if letter.sent_at]
            rows.append(
                StatusHealth(
                    str(status),
                    orders,
                    capped,
                    visible,
                    in_flight,
                    dead,
                    stuck,
                    stuck_capped,
                    oldest_waiting=now - oldest.status_changed_at if oldest else None,
                    oldest_dead_letter=now - min(sent) if sent else None,
                    oldest_message=self.oldest_message_age(self.resources.queue_name(status)),
                    backlog=(
                        tuple(self.service.backlog(limit=BACKLOG_SHOWN))
                        if status is Status.ACCEPTED
                        else None
                    ),
                )
            )
        return rows

    def oldest_message_age(self, queue_name: str) -> timedelta | None:
        """``ApproximateAgeOfOldestMessage`` over the last five minutes, if CloudWatch has it
        (AWS publishes it every minute; the emulator has none, so this is then unknown)."""
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

    def dead_letters(self, status: str, *, limit: int = 50) -> list[DeadLetter]:
        """Up to ``limit`` dead letters of a status's queue, left in place."""
        url = self.url(self.resources.dead_letter_queue_name(status))
        seen: dict[str, DeadLetter] = {}
        for _ in range(PEEK_BATCHES):
            response = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["SentTimestamp"],
            )
            batch = response.get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            for message in fresh:
                seen[message["MessageId"]] = _dead_letter(message)
            if not fresh or len(seen) >= limit:
                break
        return sorted(seen.values(), key=lambda d: d.sent_at or datetime.min.replace(tzinfo=UTC))[
            :limit
        ]

    def redrive(self, status: str, *, by: str, message_id: str | None = None) -> int:
        """Send dead letters back to the status's queue (one, or all) as user ``by``, and
        record it in the audit log (the pipeline page shows it): every redrive is accounted
        for, whoever starts it."""
        from orders.models import AuditEntry

        moved = self._redrive(status, message_id=message_id)
        AuditEntry.objects.create(
            user=by,
            action="redrive",
            target=self.resources.dead_letter_queue_name(status),
            detail=f"{moved} message(s)" + (f", message {message_id}" if message_id else ""),
        )
        return moved

    def _redrive(self, status: str, *, message_id: str | None) -> int:
        """Sent first, then deleted, so a failure in between duplicates a message rather
        than losing it."""
        source = self.url(self.resources.queue_name(status))
        dead = self.url(self.resources.dead_letter_queue_name(status))
        moved = 0
        # Bounded: one message is looked for in the first batches; "all" moves at most 10,000.
        for _ in range(PEEK_BATCHES if message_id else 1000):
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
                self.sqs.send_message(**self._resend(source, message))
                self.sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
            if message_id and moved:
                break
        return moved

    def _resend(self, source: str, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            name: value
            for name, value in (message.get("MessageAttributes") or {}).items()
            if name in ("status", "event_type")
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


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("MessageAttributes") or {}

    def attribute(name: str) -> str:
        return attributes.get(name, {}).get("StringValue", "")

    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return DeadLetter(
        message_id=message["MessageId"],
        body=message["Body"],
        reason=attribute("failure_reason") or "moved by SQS after too many receives",
        failed_at=attribute("failed_at"),
        receive_count=attribute("receive_count"),
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receipt_handle=message["ReceiptHandle"],
    )

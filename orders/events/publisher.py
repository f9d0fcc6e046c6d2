"""Publishing stored events to the SNS topic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .contract import OutboxMessage

log = logging.getLogger(__name__)


class SnsPublisher:
    def __init__(self, client: Any, topic_arn: Callable[[], str], *, fifo: bool):
        self._client = client
        self._topic_arn = topic_arn
        self._fifo = fifo

    def publish(self, message: OutboxMessage) -> None:
        kwargs: dict[str, Any] = {
            "TopicArn": self._topic_arn(),
            "Message": message.body,
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": value}
                for name, value in message.attributes.items()
            },
        }
        if self._fifo:
            kwargs["MessageGroupId"] = message.group_id
            kwargs["MessageDeduplicationId"] = message.event_id
        self._client.publish(**kwargs)

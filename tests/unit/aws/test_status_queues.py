"""The status queues adapter's reading of CloudWatch for a queue's oldest message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aws.queues import StatusQueues
from aws.resources import Resources


class FakeCloudWatch:
    def __init__(self, points=None, fail=False):
        self.points, self.fail, self.asked = points or [], fail, []

    def get_metric_statistics(self, **kwargs):
        self.asked.append(kwargs)
        if self.fail:
            raise ConnectionError("CloudWatch unreachable")
        return {"Datapoints": self.points}


def pipeline(cloudwatch) -> StatusQueues:
    return StatusQueues(
        object(), Resources(prefix="p", table="t", topic="x"), cloudwatch=cloudwatch
    )


def test_the_latest_datapoint_gives_the_oldest_message_age():
    now = datetime.now(UTC)
    cloudwatch = FakeCloudWatch(
        [
            {"Timestamp": now - timedelta(minutes=2), "Maximum": 30.0},
            {"Timestamp": now - timedelta(minutes=1), "Maximum": 95.0},
        ]
    )
    assert pipeline(cloudwatch).oldest_message_age("p-received") == timedelta(seconds=95)
    asked = cloudwatch.asked[0]
    assert (asked["Namespace"], asked["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert asked["Dimensions"] == [{"Name": "QueueName", "Value": "p-received"}]


def test_no_datapoint_or_no_cloudwatch_is_unknown_not_an_error():
    assert pipeline(FakeCloudWatch([])).oldest_message_age("q") is None
    assert pipeline(FakeCloudWatch(fail=True)).oldest_message_age("q") is None

"""Creates, idempotently, every AWS resource the workflow table implies.

Run it as often as you like: what exists is converged to the wanted settings, what is missing
is created, nothing is deleted. ``python manage.py provision``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from aws.resources import Resources
from orders.domain.workflow import STATUSES
from orders.repository.table_design import side_table_definition, table_definition

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time for staff to look and redrive
#: Workers dead-letter a message themselves, with the reason, on its ``max_receive_count``-th
#: failed delivery. SQS's redrive is only the backstop for a worker that dies mid-message; its
#: margin keeps deliveries returned by restarting workers from dead-lettering a healthy message.
REDRIVE_MARGIN = 3
TTL_ATTRIBUTE = "expires_at"
#: Uploads never finished are deleted after a day, as are parts of abandoned multipart uploads.
BUCKET_LIFECYCLE_RULES: list[dict[str, Any]] = [
    {
        "ID": "expire-unfinished-uploads",
        "Filter": {"Prefix": "uploads/"},
        "Status": "Enabled",
        "Expiration": {"Days": 1},
    },
    {
        "ID": "abort-incomplete-multipart-uploads",
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    },
]


@dataclass(frozen=True)
class ProvisionSettings:
    max_receive_count: int
    visibility_timeout: int


def filter_policy(status: str) -> dict[str, list[str]]:
    return {"status": [str(status)]}


class Provisioner:
    def __init__(
        self,
        *,
        dynamodb: Any,
        sns: Any,
        sqs: Any,
        resources: Resources,
        settings: ProvisionSettings,
        report: Callable[[str], None] = print,
        s3: Any = None,
    ):
        self.dynamodb, self.sns, self.sqs = dynamodb, sns, sqs
        self.s3 = s3  # None: no attachments bucket (callers that only need the queues)
        self.resources = resources
        self.settings = settings
        self.report = report

    def run(self) -> None:
        self.ensure_table()
        self.ensure_ttl()
        if self.s3 is not None:
            self.ensure_bucket()
        topic_arn = self.ensure_topic()
        for status in STATUSES:
            dlq_url, dlq_arn = self.ensure_queue(
                self.resources.dead_letter_queue_name(status),
                {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
            )
            queue_name = self.resources.queue_name(status)
            queue_arn = self._queue_arn(queue_name, topic_arn)
            _, queue_arn = self.ensure_queue(
                queue_name,
                {
                    "VisibilityTimeout": str(self.settings.visibility_timeout),
                    "RedrivePolicy": json.dumps(
                        {
                            "deadLetterTargetArn": dlq_arn,
                            "maxReceiveCount": self.settings.max_receive_count + REDRIVE_MARGIN,
                        }
                    ),
                    "Policy": json.dumps(self._queue_policy(queue_arn, topic_arn)),
                },
            )
            self.sqs.set_queue_attributes(
                QueueUrl=dlq_url,
                Attributes={
                    "RedriveAllowPolicy": json.dumps(
                        {"redrivePermission": "byQueue", "sourceQueueArns": [queue_arn]}
                    )
                },
            )
            self.ensure_subscription(topic_arn, queue_arn, status)

    def ensure_table(self) -> None:
        self._ensure_orders_table()
        self._ensure_side_table()

    def _ensure_side_table(self) -> None:
        name = self.resources.side_table
        try:
            self.dynamodb.describe_table(TableName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self.dynamodb.create_table(**side_table_definition(name))
            self.dynamodb.get_waiter("table_exists").wait(
                TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
            self.report(f"created table {name}")
            return
        self.report(f"table {name} ok")

    def _ensure_orders_table(self) -> None:
        definition = table_definition(self.resources.table)
        try:
            described = self.dynamodb.describe_table(TableName=self.resources.table)["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self.dynamodb.create_table(**definition)
            self.dynamodb.get_waiter("table_exists").wait(
                TableName=self.resources.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
            self.report(f"created table {self.resources.table}")
            return
        stream = described.get("StreamSpecification", {})
        if not stream.get("StreamEnabled"):
            self.dynamodb.update_table(
                TableName=self.resources.table,
                StreamSpecification=definition["StreamSpecification"],
            )
            self.report(f"enabled the stream of table {self.resources.table}")
        elif stream.get("StreamViewType") != definition["StreamSpecification"]["StreamViewType"]:
            raise RuntimeError(
                f"table {self.resources.table} streams {stream.get('StreamViewType')}; the event "
                "relay needs NEW_AND_OLD_IMAGES (disable the stream, then provision again)"
            )
        existing = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        for index in definition["GlobalSecondaryIndexes"]:
            if index["IndexName"] in existing:
                continue
            used = {k["AttributeName"] for k in index["KeySchema"]}
            self.dynamodb.update_table(
                TableName=self.resources.table,
                AttributeDefinitions=[
                    a for a in definition["AttributeDefinitions"] if a["AttributeName"] in used
                ],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )
            self.report(f"adding index {index['IndexName']} to table {self.resources.table}")
            self._wait_for_indexes()  # DynamoDB builds one new index at a time
        self.report(f"table {self.resources.table} ok")

    def ensure_ttl(self) -> None:
        """Idempotency records, feed items and throughput counts expire by themselves
        (``expires_at``); they live in the side table."""
        table = self.resources.side_table
        described = self.dynamodb.describe_time_to_live(TableName=table)
        ttl = described["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            if ttl.get("AttributeName") != TTL_ATTRIBUTE:
                raise RuntimeError(
                    f"table {table} expires items on {ttl.get('AttributeName')!r};"
                    f" the portal needs {TTL_ATTRIBUTE!r}"
                )
            return
        self.dynamodb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
        self.report(f"enabled expiry on {TTL_ATTRIBUTE} for table {table}")

    def ensure_bucket(self) -> None:
        """The attachments bucket: private, encrypted, unfinished uploads expire after a day.
        CORS allows browser POST/GET from any origin here; production narrows the origins in
        the IaC (deploy/aws)."""
        bucket = self.resources.attachments_bucket
        try:
            self.s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
                raise
            region = self.s3.meta.region_name
            extra = {}
            if region and region != "us-east-1":
                extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
            self.s3.create_bucket(Bucket=bucket, **extra)
            self.report(f"created bucket {bucket}")
        self.s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": BUCKET_LIFECYCLE_RULES}
        )
        self.s3.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedMethods": ["POST", "GET"],
                        "AllowedOrigins": ["*"],
                        "AllowedHeaders": ["*"],
                        "MaxAgeSeconds": 3000,
                    }
                ]
            },
        )
        self.report(f"bucket {bucket} ok")

    def _wait_for_indexes(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            table = self.dynamodb.describe_table(TableName=self.resources.table)["Table"]
            statuses = [
                i.get("IndexStatus", "ACTIVE") for i in table.get("GlobalSecondaryIndexes", [])
            ]
            if all(s == "ACTIVE" for s in statuses):
                return
            time.sleep(2)
        raise TimeoutError(f"indexes of {self.resources.table} still building after {timeout}s")

    def ensure_topic(self) -> str:
        attributes = {}
        if self.resources.fifo:
            attributes = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}
        arn = self.sns.create_topic(Name=self.resources.topic_name, Attributes=attributes)[
            "TopicArn"
        ]
        self.report(f"topic {arn} ok")
        return arn

    def ensure_queue(self, name: str, attributes: dict[str, str]) -> tuple[str, str]:
        wanted = dict(attributes)
        if self.resources.fifo:
            wanted["FifoQueue"] = "true"
        try:
            url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in (
                "AWS.SimpleQueueService.NonExistentQueue",
                "QueueDoesNotExist",
            ):
                raise
            url = self.sqs.create_queue(QueueName=name, Attributes=wanted)["QueueUrl"]
            self.report(f"created queue {name}")
        else:
            wanted.pop("FifoQueue", None)  # cannot be changed after creation
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes=wanted)
            self.report(f"queue {name} ok")
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return url, arn

    def ensure_subscription(self, topic_arn: str, queue_arn: str, status: str) -> None:
        attributes = {
            "RawMessageDelivery": "true",
            "FilterPolicyScope": "MessageAttributes",
            "FilterPolicy": json.dumps(filter_policy(status)),
        }
        for subscription in self._subscriptions(topic_arn):
            if subscription["Protocol"] == "sqs" and subscription["Endpoint"] == queue_arn:
                for name, value in attributes.items():
                    self.sns.set_subscription_attributes(
                        SubscriptionArn=subscription["SubscriptionArn"],
                        AttributeName=name,
                        AttributeValue=value,
                    )
                self.report(f"subscription {status} -> {queue_arn.rsplit(':', 1)[-1]} ok")
                return
        self.sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        self.report(f"subscribed {queue_arn.rsplit(':', 1)[-1]} to status {status}")

    def _subscriptions(self, topic_arn: str) -> list[dict[str, Any]]:
        paginator = self.sns.get_paginator("list_subscriptions_by_topic")
        return [s for page in paginator.paginate(TopicArn=topic_arn) for s in page["Subscriptions"]]

    @staticmethod
    def _queue_arn(name: str, topic_arn: str) -> str:
        # Same partition, region and account as the topic; known before the queue exists, so
        # the queue policy can be set as it is created.
        _, partition, _, region, account, _ = topic_arn.split(":", 5)
        return f"arn:{partition}:sqs:{region}:{account}:{name}"

    @staticmethod
    def _queue_policy(queue_arn: str, topic_arn: str) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowOrderEventsTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }

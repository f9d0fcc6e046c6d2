"""The data stack's IAM managed policies, least privilege per role: each status's worker, the
web, the event relay, the webhook dispatcher and the maintenance scheduler. In a module of its
own because the ECS task roles and the EKS roles attach these same policies (through the
stack's exports), so this is where every role's permissions are decided.
"""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import NO_VALUE, get_att, if_, policy, ref, sub
from deploy.aws.data.names import (
    BUCKET,
    SIDE_TABLE_ARN,
    TABLE_ARN,
    TABLE_INDEXES_ARN,
    TABLE_STREAMS_ARN,
    TOPIC,
    dead_letter_queue_id,
    queue_id,
)
from deploy.workflow import StatusQueue


def _kms(actions: list[str], services: list[str]) -> dict[str, Any]:
    """Use of the customer managed key, only through the named services (no KMS statement at
    all with AWS managed keys: their key policies already allow use through the service)."""
    return if_(
        "HasKmsKey",
        {
            "Sid": "CustomerManagedKey",
            "Effect": "Allow",
            "Action": actions,
            "Resource": ref("KmsKeyArn"),
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": [
                        sub(f"{service}.${{AWS::Region}}.amazonaws.com") for service in services
                    ]
                }
            },
        },
        NO_VALUE,
    )


def _readiness() -> list[dict[str, Any]]:
    """What every role's readiness check calls: the table and the topic exist."""
    return [
        {
            "Sid": "ReadinessTable",
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeTable"],
            "Resource": [TABLE_ARN, SIDE_TABLE_ARN],
        },
        {
            "Sid": "ReadinessTopic",
            "Effect": "Allow",
            "Action": ["sns:GetTopicAttributes"],
            "Resource": [ref(TOPIC)],
        },
    ]


def _managed_policy(description: str, *statements: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"Description": description, "PolicyDocument": policy(*statements)},
    }


def worker_policy(queue: StatusQueue) -> dict[str, Any]:
    """The worker of one status: its own queue and dead-letter queue, nothing of any other."""
    q, dlq = queue_id(queue), dead_letter_queue_id(queue)
    return _managed_policy(
        f"work-order portal: the {queue.status} worker (its queue and dead-letter queue only)",
        {
            "Sid": "ConsumeOwnQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:GetQueueUrl",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
            ],
            "Resource": [get_att(q, "Arn")],
        },
        {
            "Sid": "DeadLetterOwnMessages",
            "Effect": "Allow",
            "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"],
            "Resource": [get_att(dlq, "Arn")],
        },
        {
            "Sid": "Orders",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
            ],
            "Resource": [TABLE_ARN, TABLE_INDEXES_ARN, SIDE_TABLE_ARN],
        },
        {
            "Sid": "ReadinessTopic",
            "Effect": "Allow",
            "Action": ["sns:GetTopicAttributes"],
            "Resource": [ref(TOPIC)],
        },
        _kms(["kms:Decrypt", "kms:GenerateDataKey"], ["sqs", "dynamodb"]),
    )


def web_policy(queues: list[StatusQueue]) -> dict[str, Any]:
    """The web role: orders, queue depths and dead-letter redrive of every status, and the
    attachments."""
    queue_arns = [get_att(queue_id(q), "Arn") for q in queues]
    dead_letter_arns = [get_att(dead_letter_queue_id(q), "Arn") for q in queues]
    return _managed_policy(
        "work-order portal: web (API, admin, pipeline page and dead-letter redrive)",
        {
            "Sid": "Orders",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:DescribeTable",
            ],
            "Resource": [TABLE_ARN, TABLE_INDEXES_ARN, SIDE_TABLE_ARN],
        },
        {
            "Sid": "ReadinessTopic",
            "Effect": "Allow",
            "Action": ["sns:GetTopicAttributes"],
            "Resource": [ref(TOPIC)],
        },
        {
            "Sid": "QueueDepths",
            "Effect": "Allow",
            "Action": ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
            "Resource": queue_arns + dead_letter_arns,
        },
        {
            "Sid": "InspectAndRedriveDeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
            "Resource": dead_letter_arns,
        },
        {
            "Sid": "RedriveToStatusQueues",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": queue_arns,
        },
        {
            # GetMetricStatistics has no resource-level permissions.
            "Sid": "OldestMessageAge",
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricStatistics"],
            "Resource": "*",
        },
        {
            "Sid": "UploadAttachments",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Resource": [sub("${" + BUCKET + ".Arn}/uploads/*")],
        },
        {
            # Finishing copies uploads/ to attachments/ (PutObject there too); downloads GET.
            "Sid": "StoreAndServeAttachments",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
            "Resource": [sub("${" + BUCKET + ".Arn}/attachments/*")],
        },
        {
            "Sid": "FindUploads",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [get_att(BUCKET, "Arn")],
        },
        _kms(["kms:Decrypt", "kms:GenerateDataKey"], ["sqs", "dynamodb", "s3"]),
    )


def relay_policy() -> dict[str, Any]:
    """The event relay: the table's stream in, the topic out, its checkpoints and figures."""
    return _managed_policy(
        "work-order portal: the event relay (table stream to the topic, feed, checkpoints)",
        {
            "Sid": "CheckpointsFeedThroughput",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeTable",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
            ],
            "Resource": [TABLE_ARN, SIDE_TABLE_ARN],
        },
        {
            # The staff's figures (orders.figures): the relay of group 0 counts orders per
            # status and SLA deadline in the by-status-shard index.
            "Sid": "CountStaffFigures",
            "Effect": "Allow",
            "Action": ["dynamodb:Query"],
            "Resource": [TABLE_INDEXES_ARN],
        },
        {
            "Sid": "ReadStream",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetShardIterator",
                "dynamodb:GetRecords",
            ],
            "Resource": [TABLE_STREAMS_ARN],
        },
        {
            # sns:Publish also authorizes PublishBatch.
            "Sid": "PublishEvents",
            "Effect": "Allow",
            "Action": ["sns:Publish", "sns:GetTopicAttributes"],
            "Resource": [ref(TOPIC)],
        },
        _kms(["kms:Decrypt", "kms:GenerateDataKey"], ["sns", "dynamodb"]),
    )


def webhooks_policy() -> dict[str, Any]:
    """The webhook dispatcher needs AWS only for its readiness checks."""
    return _managed_policy(
        "work-order portal: the webhook dispatcher (SQL database only; readiness checks)",
        *_readiness(),
    )


def scheduler_policy() -> dict[str, Any]:
    """The maintenance scheduler creates orders through the orders' own services, so it gets
    what creating an order calls and nothing else: no SQS, no S3 (the relay publishes the
    order's event, the workers take it from there)."""
    return _managed_policy(
        "work-order portal: the maintenance scheduler (creates the orders of maintenance plans)",
        {
            # PutItem: the order (conditional on a new id); GetItem: the order a refused write
            # met, or the one a pass before made; Query: reads by key on either table.
            "Sid": "CreateOrders",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            "Resource": [TABLE_ARN, SIDE_TABLE_ARN],
        },
        {
            # Reads of the orders by an index (a plan's or a place's orders).
            "Sid": "QueryOrderIndexes",
            "Effect": "Allow",
            "Action": ["dynamodb:Query"],
            "Resource": [TABLE_INDEXES_ARN],
        },
        {
            "Sid": "SearchEntries",
            "Effect": "Allow",
            "Action": ["dynamodb:BatchWriteItem"],
            "Resource": [SIDE_TABLE_ARN],
        },
        *_readiness(),
        _kms(["kms:Decrypt", "kms:GenerateDataKey"], ["dynamodb"]),
    )

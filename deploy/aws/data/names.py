"""The data stack's names: resource names, logical ids, ARNs and SSM settings.

In a module of their own because the other stacks (``deploy.aws.ecs``, ``deploy.aws.eks``), the
checks (``deploy.aws.check``) and the tests refer to the data stack's resources by these names,
and every part of the data stack itself builds on them.
"""

from __future__ import annotations

from typing import Any

from aws import resources
from deploy.aws.cfn import if_, status_resource_id, sub
from deploy.workflow import StatusQueue

TABLE_NAME = resources.table_name("${Prefix}")  # ORDERS_TABLE_NAME's default
TOPIC_NAME = resources.topic_name("${Prefix}")  # ORDERS_TOPIC_NAME's default
SIDE_TABLE_NAME = resources.side_table_name(TABLE_NAME)  # ORDERS_SIDE_TABLE_NAME's default

# Logical ids of the fixed resources (the per-status ones are built from StatusQueue.logical_id).
TABLE = "OrdersTable"
SIDE_TABLE = "OrdersSideTable"
TOPIC = "OrderEventsTopic"
BUCKET = "AttachmentsBucket"
BUCKET_POLICY = "AttachmentsBucketPolicy"
WEB_POLICY = "WebPolicy"
RELAY_POLICY = "RelayPolicy"
WEBHOOKS_POLICY = "WebhooksPolicy"
SCHEDULER_POLICY = "SchedulerPolicy"

TABLE_ARN = sub(
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/" + TABLE_NAME
)
TABLE_INDEXES_ARN = sub(
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
    + TABLE_NAME
    + "/index/*"
)
SIDE_TABLE_ARN = sub(
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/" + SIDE_TABLE_NAME
)
#: The table's streams: their label is only known once the table exists (and differs between
#: the replicas of a global table), the table name is enough to keep the grant to this table.
TABLE_STREAMS_ARN = sub(
    "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
    + TABLE_NAME
    + "/stream/*"
)


queue_id = status_resource_id("Queue")
dead_letter_queue_id = status_resource_id("DeadLetterQueue")
queue_policy_id = status_resource_id("QueuePolicy")
subscription_id = status_resource_id("Subscription")
dead_letter_alarm_id = status_resource_id("DeadLetterAlarm")
oldest_message_alarm_id = status_resource_id("OldestMessageAlarm")
worker_policy_id = status_resource_id("WorkerPolicy")


def name_expression(standard: str, fifo: str) -> dict[str, Any]:
    """One name or the other by the Fifo parameter: FIFO topics and queues end in ``.fifo``."""
    return if_("IsFifo", sub(fifo), sub(standard))


def queue_name(queue: StatusQueue) -> dict[str, Any]:
    """The status queue's name, as the application computes it in either mode."""
    return name_expression(queue.queue_name("${Prefix}"), queue.queue_name("${Prefix}", True))


def dead_letter_queue_name(queue: StatusQueue) -> dict[str, Any]:
    """The status's dead-letter queue's name, as the application computes it in either mode."""
    return name_expression(
        queue.dead_letter_queue_name("${Prefix}"), queue.dead_letter_queue_name("${Prefix}", True)
    )


#: The settings the services must share with the queues, as SSM parameters under
#: /<data stack name>/ rather than exports: CloudFormation refuses to change an export another
#: stack imports, and these are meant to be tuned. ECS injects them when a task starts.
SETTINGS = {
    "FifoSetting": ("ORDERS_FIFO", "Fifo"),
    "VisibilityTimeoutSetting": ("ORDERS_VISIBILITY_TIMEOUT", "VisibilityTimeout"),
    "MaxReceiveCountSetting": ("ORDERS_DLQ_MAX_RECEIVE_COUNT", "MaxReceiveCount"),
}

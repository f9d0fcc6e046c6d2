"""What the data stack hands to the services: its outputs (exported, for the ECS and EKS
stacks) and the queue settings in SSM (read when a task starts). In a module of its own
because these are the contract with the other stacks, not resources the workflow needs.
"""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import exported, get_att, output, ref, sub
from deploy.aws.data.names import (
    BUCKET,
    RELAY_POLICY,
    SCHEDULER_POLICY,
    SETTINGS,
    SIDE_TABLE_NAME,
    TABLE,
    TABLE_ARN,
    TABLE_NAME,
    TOPIC,
    WEB_POLICY,
    WEBHOOKS_POLICY,
    dead_letter_queue_id,
    queue_id,
    worker_policy_id,
)
from deploy.workflow import StatusQueue


def outputs(queues: list[StatusQueue]) -> dict[str, Any]:
    """Exported, so the ECS and EKS stacks import names and policies rather than repeat them."""
    result: dict[str, Any] = {
        "Prefix": output(ref("Prefix"), "ORDERS_RESOURCE_PREFIX for the services"),
        "SettingsPath": output(
            sub("/${AWS::StackName}/"),
            "SSM path of the services' queue settings (ORDERS_FIFO, ORDERS_VISIBILITY_TIMEOUT, "
            "ORDERS_DLQ_MAX_RECEIVE_COUNT)",
            export=False,
        ),
        "TableName": output(sub(TABLE_NAME), "The orders table (ORDERS_TABLE_NAME)"),
        "SideTableName": output(
            sub(SIDE_TABLE_NAME), "The table beside the orders (ORDERS_SIDE_TABLE_NAME)"
        ),
        "TableArn": output(TABLE_ARN, "The orders table in this region"),
        "TableStreamArn": output(
            get_att(TABLE, "StreamArn"),
            "The table's stream in this region (the outbox the relay reads)",
            Condition="CreateTable",
        ),
        "TopicArn": output(ref(TOPIC), "The order events topic"),
        "TopicName": output(get_att(TOPIC, "TopicName"), "The order events topic's name"),
        "AttachmentsBucketName": output(
            ref(BUCKET), "The attachments bucket (ORDERS_ATTACHMENTS_BUCKET, web only)"
        ),
        "WebPolicyArn": output(ref(WEB_POLICY), "Managed policy for the web role"),
        "RelayPolicyArn": output(ref(RELAY_POLICY), "Managed policy for the event relay"),
        "WebhooksPolicyArn": output(ref(WEBHOOKS_POLICY), "Managed policy for the dispatcher"),
        "SchedulerPolicyArn": output(
            ref(SCHEDULER_POLICY), "Managed policy for the maintenance scheduler"
        ),
    }
    for queue in queues:
        q, dlq = queue_id(queue), dead_letter_queue_id(queue)
        result.update(
            {
                f"{q}Url": output(ref(q), f"The {queue.status} queue's URL"),
                f"{q}Arn": output(get_att(q, "Arn"), f"The {queue.status} queue's ARN"),
                f"{dlq}Url": output(ref(dlq), f"The {queue.status} dead-letter queue's URL"),
                f"{dlq}Arn": output(get_att(dlq, "Arn"), f"The {queue.status} DLQ's ARN"),
                f"{worker_policy_id(queue)}Arn": output(
                    ref(worker_policy_id(queue)), f"Managed policy for the {queue.status} worker"
                ),
            }
        )
    return exported(result)


def settings() -> dict[str, Any]:
    """The SSM parameters of ``SETTINGS``: one per setting the services share with the queues."""
    return {
        logical_id: {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": sub("/${AWS::StackName}/" + variable),
                "Type": "String",
                "Value": ref(parameter),
                "Description": f"{variable} for the work-order portal's services",
            },
        }
        for logical_id, (variable, parameter) in SETTINGS.items()
    }

"""The data stack's per-status resources: queue, dead-letter queue, queue policy, filtered
subscription, two alarms and the worker's policy. In a module of its own because this is the
part that grows with the workflow table: one call per status.
"""

from __future__ import annotations

from typing import Any

from aws.provisioning import DLQ_RETENTION_SECONDS, filter_policy
from deploy.aws.cfn import NO_VALUE, get_att, if_, policy, ref, sub, tags
from deploy.aws.data.names import (
    TOPIC,
    dead_letter_alarm_id,
    dead_letter_queue_id,
    dead_letter_queue_name,
    oldest_message_alarm_id,
    queue_id,
    queue_name,
    queue_policy_id,
    subscription_id,
    worker_policy_id,
)
from deploy.aws.data.policies import worker_policy
from deploy.workflow import StatusQueue

#: SQS's default, which provision leaves in place: the oldest-message alarm fires long before.
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600


def _encryption() -> dict[str, Any]:
    # SSE-SQS unless a customer key is given. SNS cannot write to a queue encrypted with the
    # AWS managed key aws/sqs (its key policy cannot grant sns.amazonaws.com), so never that.
    return {
        "KmsMasterKeyId": if_("HasKmsKey", ref("KmsKeyArn"), NO_VALUE),
        "SqsManagedSseEnabled": if_("HasKmsKey", NO_VALUE, True),
    }


def _fifo_queue() -> dict[str, Any]:
    return {
        "FifoQueue": if_("IsFifo", True, NO_VALUE),
        # High-throughput FIFO: deduplication ids are event ids, unique across groups.
        "DeduplicationScope": if_("IsFifo", "messageGroup", NO_VALUE),
        "FifoThroughputLimit": if_("IsFifo", "perMessageGroupId", NO_VALUE),
    }


def _queue_arn(name: dict[str, Any]) -> dict[str, Any]:
    # Built from the name, so the dead-letter queue's RedriveAllowPolicy can name its source
    # queue without a dependency cycle (the source's RedrivePolicy names the DLQ).
    return sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Name}", {"Name": name})


def status_resources(queue: StatusQueue) -> dict[str, Any]:
    """Everything one status adds to the stack, by logical id."""
    q, dlq = queue_id(queue), dead_letter_queue_id(queue)
    status_tags = tags(Application="work-order-portal", Prefix=ref("Prefix"), Status=queue.status)
    alarm_actions = if_("HasAlarmTopic", [ref("AlarmTopicArn")], NO_VALUE)
    return {
        dlq: {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": dead_letter_queue_name(queue),
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "RedriveAllowPolicy": {
                    "redrivePermission": "byQueue",
                    "sourceQueueArns": [_queue_arn(queue_name(queue))],
                },
                **_fifo_queue(),
                **_encryption(),
                "Tags": status_tags,
            },
        },
        q: {
            "Type": "AWS::SQS::Queue",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "QueueName": queue_name(queue),
                "VisibilityTimeout": ref("VisibilityTimeout"),
                "MessageRetentionPeriod": QUEUE_RETENTION_SECONDS,
                "RedrivePolicy": {
                    "deadLetterTargetArn": get_att(dlq, "Arn"),
                    # MaxReceiveCount + REDRIVE_MARGIN (CloudFormation has no arithmetic).
                    "maxReceiveCount": {
                        "Fn::FindInMap": ["Redrive", ref("MaxReceiveCount"), "MaxReceiveCount"]
                    },
                },
                **_fifo_queue(),
                **_encryption(),
                "Tags": status_tags,
            },
        },
        queue_policy_id(queue): {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref(q)],
                "PolicyDocument": policy(
                    {
                        "Sid": "AllowOrderEventsTopic",
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": get_att(q, "Arn"),
                        "Condition": {"ArnEquals": {"aws:SourceArn": ref(TOPIC)}},
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "sqs:*",
                        "Resource": get_att(q, "Arn"),
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ),
            },
        },
        subscription_id(queue): {
            "Type": "AWS::SNS::Subscription",
            # The queue must accept the topic's messages before SNS starts delivering.
            "DependsOn": queue_policy_id(queue),
            "Properties": {
                "TopicArn": ref(TOPIC),
                "Protocol": "sqs",
                "Endpoint": get_att(q, "Arn"),
                "RawMessageDelivery": True,
                "FilterPolicyScope": "MessageAttributes",
                "FilterPolicy": filter_policy(queue.status),
            },
        },
        dead_letter_alarm_id(queue): {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": sub(f"${{AWS::StackName}}-{queue.slug}-dead-letters"),
                "AlarmDescription": f"Messages in the {queue.status} dead-letter queue: a worker "
                "gave up on them. Look and redrive from the admin's pipeline page.",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": get_att(dlq, "QueueName")},
                ],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": alarm_actions,
                "OKActions": alarm_actions,
            },
        },
        oldest_message_alarm_id(queue): {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": sub(f"${{AWS::StackName}}-{queue.slug}-oldest-message"),
                "AlarmDescription": f"The {queue.status} queue's oldest message is older than "
                "OldestMessageAgeAlarmSeconds: its workers are stuck, failing or too few.",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [
                    {"Name": "QueueName", "Value": get_att(q, "QueueName")},
                ],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 3,
                "Threshold": ref("OldestMessageAgeAlarmSeconds"),
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": alarm_actions,
                "OKActions": alarm_actions,
            },
        },
        worker_policy_id(queue): worker_policy(queue),
    }

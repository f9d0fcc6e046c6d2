"""The data stack's parameters, mappings, rules and conditions: what an operator chooses and how
the template turns those choices into the switches (``IsFifo``, ``HasKmsKey``, ...) the
resources read. In a module of its own because it is the stack's interface, not its resources.
"""

from __future__ import annotations

from typing import Any

from aws.provisioning import REDRIVE_MARGIN
from deploy.aws.cfn import and_, equals, not_, ref
from deploy.workflow import StatusQueue

#: The ORDERS_DLQ_MAX_RECEIVE_COUNT values the template accepts.
MAX_RECEIVE_COUNTS = range(1, 21)
#: SQS's limit on queue names, ".fifo" included.
SQS_NAME_MAX = 80


def prefix_max_length(queues: list[StatusQueue]) -> int:
    """The longest prefix for which every dead-letter queue name (".fifo" included) fits."""
    longest = max((len(q.dead_letter_queue_name("", True)) for q in queues), default=0)
    return SQS_NAME_MAX - longest


def parameters(queues: list[StatusQueue]) -> dict[str, Any]:
    """What an operator may set; Prefix is capped so every queue name still fits SQS."""
    return {
        "Prefix": {
            "Type": "String",
            "Default": "workorders-prod",
            "Description": "Resource name prefix; must equal the services' ORDERS_RESOURCE_PREFIX "
            "(table <Prefix>-orders, topic <Prefix>-order-events, queues <Prefix>-<status>).",
            "AllowedPattern": "^[a-z0-9][a-z0-9-]*$",
            "MinLength": 1,
            "MaxLength": prefix_max_length(queues),
        },
        "Fifo": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["true", "false"],
            "Description": "FIFO topic and queues (must equal ORDERS_FIFO). Cannot be switched "
            "in place: see deploy/aws/README.md.",
        },
        "MaxReceiveCount": {
            "Type": "String",
            "Default": "5",
            "AllowedValues": [str(count) for count in MAX_RECEIVE_COUNTS],
            "Description": "ORDERS_DLQ_MAX_RECEIVE_COUNT: deliveries before a worker dead-letters "
            f"a message; SQS's redrive backstop is this + {REDRIVE_MARGIN}.",
        },
        "VisibilityTimeout": {
            "Type": "Number",
            "Default": 60,
            "MinValue": 0,
            "MaxValue": 43200,
            "Description": "Seconds a received message stays hidden (ORDERS_VISIBILITY_TIMEOUT).",
        },
        "KmsKeyArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional customer managed KMS key (ARN, this region) for the table, "
            "topic and queues. Empty: AWS managed keys (DynamoDB, SNS) and SSE-SQS.",
        },
        "TableMode": {
            "Type": "String",
            "Default": "create",
            "AllowedValues": ["create", "existing"],
            "Description": "create: this stack owns the global table. existing: the table exists "
            "already (a replica made by the first region's stack, or another data stack's "
            "table during a FIFO migration); this stack makes only the topic, queues and "
            "policies.",
        },
        "ReplicaRegion": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^([a-z]{2}(-[a-z]+)+-[0-9])?$",
            "Description": "Optional second region: the table gets a replica there "
            "(TableMode create only).",
        },
        "ReplicaKmsKeyArn": {
            "Type": "String",
            "Default": "",
            "Description": "Customer managed KMS key in ReplicaRegion; required when KmsKeyArn "
            "and ReplicaRegion are both set.",
        },
        "AlarmTopicArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional SNS topic for alarm notifications (alarms exist either way).",
        },
        "AttachmentOrigins": {
            "Type": "CommaDelimitedList",
            "Default": "https://portal.example.com",
            "Description": "Origins (https://host) whose browsers may POST uploads to and GET "
            "downloads from the attachments bucket: the portal's own (CORS).",
        },
        "OldestMessageAgeAlarmSeconds": {
            "Type": "Number",
            "Default": 300,
            "MinValue": 60,
            "Description": "Alarm when a status queue's oldest message is older than this.",
        },
    }


def mappings() -> dict[str, Any]:
    """MaxReceiveCount + REDRIVE_MARGIN per allowed count: CloudFormation has no arithmetic."""
    return {
        "Redrive": {
            str(count): {"MaxReceiveCount": count + REDRIVE_MARGIN} for count in MAX_RECEIVE_COUNTS
        }
    }


def rules() -> dict[str, Any]:
    """Parameter combinations refused before any resource is touched."""
    has_key = not_(equals(ref("KmsKeyArn"), ""))
    has_replica = not_(equals(ref("ReplicaRegion"), ""))
    return {
        "ReplicaNeedsItsOwnKey": {
            "RuleCondition": and_(has_key, has_replica),
            "Assertions": [
                {
                    "Assert": not_(equals(ref("ReplicaKmsKeyArn"), "")),
                    "AssertDescription": "KMS keys are regional: with KmsKeyArn and ReplicaRegion "
                    "set, ReplicaKmsKeyArn must name a key in ReplicaRegion.",
                }
            ],
        },
        "ReplicaOnlyWhenCreatingTheTable": {
            "RuleCondition": equals(ref("TableMode"), "existing"),
            "Assertions": [
                {
                    "Assert": equals(ref("ReplicaRegion"), ""),
                    "AssertDescription": "ReplicaRegion belongs to the stack that creates the "
                    "table (TableMode create).",
                }
            ],
        },
    }


def conditions() -> dict[str, Any]:
    """The switches the resources read, named once rather than spelled out each time."""
    return {
        "IsFifo": equals(ref("Fifo"), "true"),
        "HasKmsKey": not_(equals(ref("KmsKeyArn"), "")),
        "HasAlarmTopic": not_(equals(ref("AlarmTopicArn"), "")),
        "CreateTable": equals(ref("TableMode"), "create"),
        "HasReplica": and_({"Condition": "CreateTable"}, not_(equals(ref("ReplicaRegion"), ""))),
    }

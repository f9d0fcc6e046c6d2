"""The data-plane stack (``deploy/aws/templates/data.yaml``): everything the workflow table
implies on AWS, the same resources ``manage.py provision`` creates on the emulator
(``orders/provisioning.py``), plus what production needs on top: encryption, backups, alarms
and least-privilege IAM policies for each role.

A pure function of the status list: one queue, dead-letter queue, queue policy, filtered
subscription, two alarms and one worker policy per status.
"""

from __future__ import annotations

from typing import Any

from aws import resources
from aws.provisioning import (
    BUCKET_LIFECYCLE_RULES,
    DLQ_RETENTION_SECONDS,
    REDRIVE_MARGIN,
    TTL_ATTRIBUTE,
    filter_policy,
)
from deploy.aws.cfn import (
    NO_VALUE,
    and_,
    equals,
    exported,
    get_att,
    if_,
    not_,
    output,
    policy,
    ref,
    status_resource_id,
    sub,
    tags,
)
from deploy.workflow import StatusQueue
from orders.repository.table_design import side_table_definition, table_definition

#: The ORDERS_DLQ_MAX_RECEIVE_COUNT values the template accepts.
MAX_RECEIVE_COUNTS = range(1, 21)
#: SQS's default, which provision leaves in place: the oldest-message alarm fires long before.
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
#: SQS's limit on queue names, ".fifo" included.
SQS_NAME_MAX = 80
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
    return if_("IsFifo", sub(fifo), sub(standard))


def queue_name(queue: StatusQueue) -> dict[str, Any]:
    return name_expression(queue.queue_name("${Prefix}"), queue.queue_name("${Prefix}", True))


def dead_letter_queue_name(queue: StatusQueue) -> dict[str, Any]:
    return name_expression(
        queue.dead_letter_queue_name("${Prefix}"), queue.dead_letter_queue_name("${Prefix}", True)
    )


def prefix_max_length(queues: list[StatusQueue]) -> int:
    """The longest prefix for which every dead-letter queue name (".fifo" included) fits."""
    longest = max((len(q.dead_letter_queue_name("", True)) for q in queues), default=0)
    return SQS_NAME_MAX - longest


def parameters(queues: list[StatusQueue]) -> dict[str, Any]:
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
    return {
        "Redrive": {
            str(count): {"MaxReceiveCount": count + REDRIVE_MARGIN} for count in MAX_RECEIVE_COUNTS
        }
    }


def rules() -> dict[str, Any]:
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
    return {
        "IsFifo": equals(ref("Fifo"), "true"),
        "HasKmsKey": not_(equals(ref("KmsKeyArn"), "")),
        "HasAlarmTopic": not_(equals(ref("AlarmTopicArn"), "")),
        "CreateTable": equals(ref("TableMode"), "create"),
        "HasReplica": and_({"Condition": "CreateTable"}, not_(equals(ref("ReplicaRegion"), ""))),
    }


def _replicas() -> list[Any]:
    """This region's replica and, with ReplicaRegion, the other region's."""
    replica_common = {
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "ContributorInsightsSpecification": {"Enabled": False},
        "Tags": tags(Application="work-order-portal", Prefix=ref("Prefix")),
    }
    local = {
        "Region": ref("AWS::Region"),
        "SSESpecification": if_("HasKmsKey", {"KMSMasterKeyId": ref("KmsKeyArn")}, NO_VALUE),
        **replica_common,
    }
    replica = {
        "Region": ref("ReplicaRegion"),
        "SSESpecification": if_("HasKmsKey", {"KMSMasterKeyId": ref("ReplicaKmsKeyArn")}, NO_VALUE),
        **replica_common,
    }
    return [local, if_("HasReplica", replica, NO_VALUE)]


def _global_table(name: str, definition: dict[str, Any], **properties: Any) -> dict[str, Any]:
    """A table of ``definition`` (what provision creates) as a global table, single-region
    unless ReplicaRegion is set; kept whatever a stack operation does."""
    return {
        "Type": "AWS::DynamoDB::GlobalTable",
        "Condition": "CreateTable",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": sub(name),
            "BillingMode": definition["BillingMode"],
            "AttributeDefinitions": definition["AttributeDefinitions"],
            "KeySchema": definition["KeySchema"],
            **properties,
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            # KMS encryption: the AWS managed key (aws/dynamodb) unless each replica names a
            # customer managed key (SSESpecification of the replicas).
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": _replicas(),
        },
    }


def table() -> dict[str, Any]:
    """The orders table, with exactly the keys, indexes and stream of ``table_definition``."""
    definition = table_definition("unused")
    return _global_table(
        TABLE_NAME,
        definition,
        GlobalSecondaryIndexes=definition["GlobalSecondaryIndexes"],
        # GlobalTable takes the view type only; the stream is always on (the outbox).
        StreamSpecification={"StreamViewType": definition["StreamSpecification"]["StreamViewType"]},
    )


def side_table() -> dict[str, Any]:
    """The table beside the orders (``side_table_definition``): notes, attachments, search
    entries, the feed, idempotency records, team loads, relay checkpoints. Nobody reads its
    stream; a global table with a replica needs one to replicate."""
    return _global_table(
        SIDE_TABLE_NAME,
        side_table_definition("unused"),
        StreamSpecification=if_("HasReplica", {"StreamViewType": "NEW_AND_OLD_IMAGES"}, NO_VALUE),
    )


def topic() -> dict[str, Any]:
    return {
        "Type": "AWS::SNS::Topic",
        "Properties": {
            "TopicName": name_expression(TOPIC_NAME, TOPIC_NAME + ".fifo"),
            "FifoTopic": if_("IsFifo", True, NO_VALUE),
            # The relay sends MessageDeduplicationId = event id and MessageGroupId = order id
            # (orders/events/publisher.py): no content-based deduplication, like provision.
            "ContentBasedDeduplication": if_("IsFifo", False, NO_VALUE),
            # Ordering and deduplication per order, at high throughput.
            "FifoThroughputScope": if_("IsFifo", "MessageGroup", NO_VALUE),
            "KmsMasterKeyId": if_("HasKmsKey", ref("KmsKeyArn"), "alias/aws/sns"),
            "Tags": tags(Application="work-order-portal", Prefix=ref("Prefix")),
        },
    }


def bucket() -> dict[str, Any]:
    """Photos and documents on orders: private, encrypted, unfinished uploads expire after a
    day (the lifecycle ``manage.py provision`` sets). Browsers POST uploads and GET downloads
    with presigned requests from the portal's origin only (``AllowedOrigins``)."""
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Metadata": {
            "checkov": {
                "skip": [
                    {
                        "id": "CKV_AWS_21",
                        "comment": "Versioning off on purpose: finishing an upload copies it and "
                        "deletes the upload; versions would keep every deleted upload.",
                    },
                    {
                        "id": "CKV_AWS_18",
                        "comment": "Access is only by presigned requests the web signs and logs "
                        "(request log, order history); S3 data events belong to the account's "
                        "CloudTrail, not this stack.",
                    },
                ]
            }
        },
        "Properties": {
            # No BucketName: bucket names are global and at most 63 characters, so
            # CloudFormation names it; the web gets it as ORDERS_ATTACHMENTS_BUCKET (output).
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": if_(
                            "HasKmsKey",
                            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": ref("KmsKeyArn")},
                            {"SSEAlgorithm": "AES256"},
                        ),
                        "BucketKeyEnabled": if_("HasKmsKey", True, NO_VALUE),
                    }
                ]
            },
            # Versioning off: a finished upload is copied to attachments/ and its upload
            # deleted; versions would keep every deleted upload.
            "LifecycleConfiguration": {"Rules": _lifecycle_rules()},
            "CorsConfiguration": {
                "CorsRules": [
                    {
                        "AllowedMethods": ["POST", "GET"],
                        "AllowedOrigins": ref("AttachmentOrigins"),
                        "AllowedHeaders": ["*"],
                        "MaxAge": 3000,
                    }
                ]
            },
            "Tags": tags(Application="work-order-portal", Prefix=ref("Prefix")),
        },
    }


def _lifecycle_rules() -> list[dict[str, Any]]:
    """``BUCKET_LIFECYCLE_RULES`` (the S3 API's shape) in CloudFormation's."""
    rules = []
    for rule in BUCKET_LIFECYCLE_RULES:
        converted: dict[str, Any] = {
            "Id": rule["ID"],
            "Status": rule["Status"],
            "Prefix": rule["Filter"]["Prefix"] or NO_VALUE,
        }
        if "Expiration" in rule:
            converted["ExpirationInDays"] = rule["Expiration"]["Days"]
        if "AbortIncompleteMultipartUpload" in rule:
            converted["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            }
        rules.append(converted)
    return rules


def bucket_policy() -> dict[str, Any]:
    bucket_arn = get_att(BUCKET, "Arn")
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref(BUCKET),
            "PolicyDocument": policy(
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, sub("${" + BUCKET + ".Arn}/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ),
        },
    }


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
    return _managed_policy(
        "work-order portal: the webhook dispatcher (SQL database only; readiness checks)",
        *_readiness(),
    )


def outputs(queues: list[StatusQueue]) -> dict[str, Any]:
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


#: The settings the services must share with the queues, as SSM parameters under
#: /<data stack name>/ rather than exports: CloudFormation refuses to change an export another
#: stack imports, and these are meant to be tuned. ECS injects them when a task starts.
SETTINGS = {
    "FifoSetting": ("ORDERS_FIFO", "Fifo"),
    "VisibilityTimeoutSetting": ("ORDERS_VISIBILITY_TIMEOUT", "VisibilityTimeout"),
    "MaxReceiveCountSetting": ("ORDERS_DLQ_MAX_RECEIVE_COUNT", "MaxReceiveCount"),
}


def settings() -> dict[str, Any]:
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


def template(queues: list[StatusQueue]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        TABLE: table(),
        SIDE_TABLE: side_table(),
        TOPIC: topic(),
        BUCKET: bucket(),
        BUCKET_POLICY: bucket_policy(),
        **settings(),
    }
    for queue in queues:
        resources.update(status_resources(queue))
    resources[WEB_POLICY] = web_policy(queues)
    resources[RELAY_POLICY] = relay_policy()
    resources[WEBHOOKS_POLICY] = webhooks_policy()
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Work-order portal data plane: orders table, order events topic, one "
        "queue, dead-letter queue, filtered subscription, alarms and worker policy per status "
        f"({', '.join(q.status for q in queues)}).",
        "Parameters": parameters(queues),
        "Mappings": mappings(),
        "Rules": rules(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": outputs(queues),
    }

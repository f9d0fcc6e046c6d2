"""The data stack's storage: the orders table and the table beside it (DynamoDB global tables),
the order events topic and the attachments bucket with its policy. In a module of its own
because these are the stateful resources (kept whatever a stack operation does), shared by
every status rather than made per status.
"""

from __future__ import annotations

from typing import Any

from aws.provisioning import BUCKET_LIFECYCLE_RULES, TTL_ATTRIBUTE
from deploy.aws.cfn import NO_VALUE, get_att, if_, policy, ref, sub, tags
from deploy.aws.data.names import BUCKET, SIDE_TABLE_NAME, TABLE_NAME, TOPIC_NAME, name_expression
from orders.repository.table_design import side_table_definition, table_definition


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
    """The order events topic the relay publishes to and every status queue subscribes to."""
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
    """Refuses plain-HTTP access to the attachments bucket."""
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

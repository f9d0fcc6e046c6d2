"""The fixed part of the stack: cluster, logs, roles, load balancer, the limits' cache, web,
webhooks, migration (day one is in ``day_one``)."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import NO_VALUE, if_, policy, ref, sub, tags
from deploy.aws.data import names as data
from deploy.aws.ecs.cache import cache_resources
from deploy.aws.ecs.containers import container, http_check, setting_arn, task_definition, task_role
from deploy.aws.ecs.day_one import superuser_password_arn
from deploy.aws.ecs.names import (
    BACKGROUND_SG,
    CLUSTER,
    EXECUTION_ROLE,
    LOG_GROUP,
    METRICS_PORT,
    MIGRATE_TASK,
    OTHER_STOP_TIMEOUT,
    WEBHOOKS_SERVICE,
)
from deploy.aws.ecs.network import network_resources
from deploy.aws.ecs.services import service
from deploy.aws.ecs.web import web_resources


def shared_resources() -> dict[str, Any]:
    secret_arns = [
        ref("DatabaseUrlSecretArn"),
        ref("SecretKeySecretArn"),
        if_("HasCacheUrl", ref("CacheUrlSecretArn"), NO_VALUE),
        superuser_password_arn(),  # the day-one task's DJANGO_SUPERUSER_PASSWORD
    ]
    return {
        CLUSTER: {
            "Type": "AWS::ECS::Cluster",
            "Properties": {
                "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
                "Tags": tags(Application="work-order-portal"),
            },
        },
        LOG_GROUP: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "RetentionInDays": ref("LogRetentionDays"),
                "KmsKeyId": if_("HasLogKey", ref("LogKmsKeyArn"), NO_VALUE),
            },
        },
        EXECUTION_ROLE: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "ECS agent: pulls the image, writes logs, reads the secrets",
                "AssumeRolePolicyDocument": policy(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
                    }
                ),
                "ManagedPolicyArns": [
                    sub(
                        "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                        "AmazonECSTaskExecutionRolePolicy"
                    )
                ],
                "Policies": [
                    {
                        "PolicyName": "read-secrets",
                        "PolicyDocument": policy(
                            {
                                "Sid": "Secrets",
                                "Effect": "Allow",
                                "Action": ["secretsmanager:GetSecretValue"],
                                "Resource": secret_arns,
                            },
                            {
                                "Sid": "QueueSettings",
                                "Effect": "Allow",
                                "Action": ["ssm:GetParameters"],
                                "Resource": [
                                    setting_arn(variable) for variable, _ in data.SETTINGS.values()
                                ],
                            },
                            if_(
                                "HasSecretsKey",
                                {
                                    "Sid": "SecretsKey",
                                    "Effect": "Allow",
                                    "Action": ["kms:Decrypt"],
                                    "Resource": ref("SecretsKmsKeyArn"),
                                    "Condition": {
                                        "StringEquals": {
                                            "kms:ViaService": sub(
                                                "secretsmanager.${AWS::Region}.amazonaws.com"
                                            )
                                        }
                                    },
                                },
                                NO_VALUE,
                            ),
                        ),
                    }
                ],
            },
        },
        **network_resources(),
        **cache_resources(),
        "WebTaskRole": task_role("Web tasks: API, admin, pipeline page", "WebPolicyArn"),
        "RelayTaskRole": task_role("The event relay", "RelayPolicyArn"),
        "WebhooksTaskRole": task_role("The webhook dispatcher", "WebhooksPolicyArn"),
        **web_resources(),
        "WebhooksTaskDefinition": task_definition(
            "webhooks",
            "WebhooksTaskRole",
            "BackgroundCpu",
            "BackgroundMemory",
            container(
                "webhooks",
                ["webhooks"],
                stop_timeout=OTHER_STOP_TIMEOUT,
                health=http_check(METRICS_PORT, "/metrics"),
            ),
        ),
        WEBHOOKS_SERVICE: service(
            "WebhooksTaskDefinition",
            security_group=BACKGROUND_SG,
            desired=ref("WebhooksCount"),
            maximum_percent=200,
            minimum_percent=100,
        ),
        # Run with `aws ecs run-task` before an update (README); needs the database only, so
        # it has no task role at all.
        MIGRATE_TASK: task_definition(
            "migrate",
            None,
            "BackgroundCpu",
            "BackgroundMemory",
            container(
                "migrate",
                ["migrate"],
                image=if_("HasMigrationImage", ref("MigrationImageUri"), ref("ImageUri")),
                stop_timeout=OTHER_STOP_TIMEOUT,
                health=None,
            ),
        ),
    }

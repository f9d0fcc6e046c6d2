"""The stack's outputs, exported for operators and other stacks."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import exported, get_att, join, output, ref
from deploy.aws.ecs.cache import cache_endpoint
from deploy.aws.ecs.day_one import superuser_password_arn
from deploy.aws.ecs.names import (
    ALB,
    BACKGROUND_SG,
    CLUSTER,
    DAY_ONE_CONTAINER,
    DAY_ONE_TASK,
    LOG_GROUP,
    MIGRATE_TASK,
    RELAY_SERVICE,
    SCHEDULER_SERVICE,
    WEB_SERVICE,
    WEB_SG,
    WEBHOOKS_SERVICE,
    worker_service_id,
)
from deploy.workflow import StatusQueue


def outputs(queues: list[StatusQueue]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ClusterName": output(ref(CLUSTER), "The ECS cluster"),
        "LoadBalancerDnsName": output(
            get_att(ALB, "DNSName"), "Point the portal's DNS name (CNAME/alias) here"
        ),
        "LogGroupName": output(ref(LOG_GROUP), "Every container's logs"),
        "MigrateTaskDefinitionArn": output(
            ref(MIGRATE_TASK), "aws ecs run-task this before moving ImageUri (README)"
        ),
        "DayOneTaskDefinitionArn": output(
            ref(DAY_ONE_TASK),
            f"aws ecs run-task this once the migration has run (container {DAY_ONE_CONTAINER}; "
            "docs/deploy.md, day one)",
        ),
        "SuperuserPasswordArn": output(
            superuser_password_arn(), "The first superuser's password (day one)"
        ),
        "PrivateSubnetIds": output(
            join(",", ref("PrivateSubnetIds")), "Subnets for aws ecs run-task"
        ),
        "WebTaskSecurityGroupId": output(
            ref(WEB_SG),
            "Allow it on the database's security group (5432), and on your cache's with "
            "CacheUrlSecretArn",
        ),
        "CacheEndpoint": output(
            cache_endpoint(),
            "The API limits' Valkey (TLS; web tasks only): CACHE_URL rediss://<this>/0",
            Condition="CreateCache",
        ),
        "BackgroundTaskSecurityGroupId": output(
            ref(BACKGROUND_SG), "Allow it on the database's security group (5432)"
        ),
        "WebServiceName": output(get_att(WEB_SERVICE, "Name"), "The web service"),
        "RelayServiceName": output(get_att(RELAY_SERVICE, "Name"), "The event relay service"),
        "WebhooksServiceName": output(get_att(WEBHOOKS_SERVICE, "Name"), "The dispatcher"),
        "SchedulerServiceName": output(
            get_att(SCHEDULER_SERVICE, "Name"), "The maintenance scheduler"
        ),
    }
    for queue in queues:
        result[f"{worker_service_id(queue)}Name"] = output(
            get_att(worker_service_id(queue), "Name"), f"The {queue.status} worker service"
        )
    return exported(result)

"""ECS services and their scalable targets, set up alike for every role."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import ref, sub, tags
from deploy.aws.ecs.names import CLUSTER


def service(
    task: str,
    *,
    security_group: str,
    desired: Any,
    maximum_percent: int,
    minimum_percent: int,
    extra: dict[str, Any] | None = None,
    depends_on: Any = None,
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Cluster": ref(CLUSTER),
        "TaskDefinition": ref(task),
        "LaunchType": "FARGATE",
        "PlatformVersion": "LATEST",
        "DesiredCount": desired,
        "DeploymentConfiguration": {
            "MaximumPercent": maximum_percent,
            "MinimumHealthyPercent": minimum_percent,
            "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        },
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {
                "AssignPublicIp": "DISABLED",
                "Subnets": ref("PrivateSubnetIds"),
                "SecurityGroups": [ref(security_group)],
            }
        },
        "EnableExecuteCommand": False,
        "PropagateTags": "SERVICE",
        "EnableECSManagedTags": True,
        "Tags": tags(Application="work-order-portal"),
        **(extra or {}),
    }
    if desired is None:
        # Scaled by Application Auto Scaling: a stack update must not reset the count.
        del properties["DesiredCount"]
    resource: dict[str, Any] = {"Type": "AWS::ECS::Service", "Properties": properties}
    if depends_on:
        resource["DependsOn"] = depends_on
    return resource


def scalable_target(service_id: str, minimum: Any, maximum: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "ServiceNamespace": "ecs",
            "ScalableDimension": "ecs:service:DesiredCount",
            "ResourceId": sub("service/${" + CLUSTER + "}/${" + service_id + ".Name}"),
            "MinCapacity": minimum,
            "MaxCapacity": maximum,
        },
    }

"""The event relay groups: one service of exactly one task each, and its not-running alarm."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import NO_VALUE, get_att, if_, ref, sub
from deploy.aws.ecs.containers import container, http_check, task_definition
from deploy.aws.ecs.names import BACKGROUND_SG, METRICS_PORT, OTHER_STOP_TIMEOUT, relay_condition
from deploy.aws.ecs.services import service


def relay_ids(group: int) -> tuple[str, str, str]:
    """Task definition, service and alarm of a relay group (group 0 keeps the plain names)."""
    prefix = "Relay" if group == 0 else f"Relay{group}"
    return f"{prefix}TaskDefinition", f"{prefix}Service", f"{prefix}NotRunningAlarm"


def relay_resources(group: int) -> dict[str, Any]:
    """One relay group: a task definition and a service of exactly one task, never two at
    once (the old task stops before the new one starts: 100 / 0), and its alarm."""
    task_id, service_id, alarm_id = relay_ids(group)
    resources = {
        task_id: task_definition(
            "relay" if group == 0 else f"relay-{group}",
            "RelayTaskRole",
            "BackgroundCpu",
            "BackgroundMemory",
            container(
                "relay",
                ["relay"],
                stop_timeout=OTHER_STOP_TIMEOUT,
                health=http_check(METRICS_PORT, "/metrics"),
                env={"EVENT_RELAY_GROUPS": ref("RelayGroups"), "EVENT_RELAY_GROUP": str(group)},
            ),
        ),
        service_id: service(
            task_id,
            security_group=BACKGROUND_SG,
            desired=1,
            maximum_percent=100,
            minimum_percent=0,
            extra={"AvailabilityZoneRebalancing": "DISABLED"},
        ),
        alarm_id: relay_alarm(group, service_id),
    }
    if group:
        for resource in resources.values():
            resource["Condition"] = relay_condition(group)
    return resources


def relay_alarm(group: int, service_id: str) -> dict[str, Any]:
    """The relay is the one publisher of its shards: while it is not running, they wait in the
    table's stream (which keeps them 24 hours)."""
    actions = if_("HasAlarmTopic", [ref("AlarmTopicArn")], NO_VALUE)
    name = "relay" if group == 0 else f"relay-{group}"
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": sub("${AWS::StackName}-" + name + "-not-running"),
            "AlarmDescription": "No event relay task has run for 3 minutes: order events are "
            "not being published (the stream keeps them 24 hours). Check the relay service's "
            "events and logs.",
            "Namespace": "ECS/ContainerInsights",
            "MetricName": "RunningTaskCount",
            "Dimensions": [
                {"Name": "ClusterName", "Value": ref("Cluster")},
                {"Name": "ServiceName", "Value": get_att(service_id, "Name")},
            ],
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            # No data points at all means no task reported either.
            "TreatMissingData": "breaching",
            "AlarmActions": actions,
            "OKActions": actions,
        },
    }

"""The maintenance scheduler: a service of ``SchedulerCount`` tasks that create the orders of
preventive-maintenance plans, its task role and its not-running alarm.

Several tasks are safe (each pass locks the plans it handles with ``SELECT … FOR UPDATE SKIP
LOCKED``, and an occurrence's order has a deterministic id), so it rolls like the webhook
dispatcher: the new task starts before the old one stops.
"""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import NO_VALUE, equals, get_att, if_, not_, ref, sub
from deploy.aws.ecs.containers import container, http_check, task_definition, task_role
from deploy.aws.ecs.names import (
    BACKGROUND_SG,
    CLUSTER,
    METRICS_PORT,
    OTHER_STOP_TIMEOUT,
    RUNS_SCHEDULER,
    SCHEDULER_ALARM,
    SCHEDULER_ROLE,
    SCHEDULER_SERVICE,
    SCHEDULER_TASK,
)
from deploy.aws.ecs.services import service

#: The image's role (``python -m portal.role scheduler``: ``manage.py run_scheduler``).
SCHEDULER_COMMAND = ["scheduler"]


def scheduler_conditions() -> dict[str, Any]:
    return {RUNS_SCHEDULER: not_(equals(ref("SchedulerCount"), "0"))}


def scheduler_resources() -> dict[str, Any]:
    return {
        SCHEDULER_ROLE: task_role(
            "The maintenance scheduler: creates the orders of maintenance plans",
            "SchedulerPolicyArn",
        ),
        SCHEDULER_TASK: task_definition(
            "scheduler",
            SCHEDULER_ROLE,
            "BackgroundCpu",
            "BackgroundMemory",
            container(
                "scheduler",
                SCHEDULER_COMMAND,
                stop_timeout=OTHER_STOP_TIMEOUT,
                health=http_check(METRICS_PORT, "/metrics"),
            ),
        ),
        SCHEDULER_SERVICE: service(
            SCHEDULER_TASK,
            security_group=BACKGROUND_SG,
            desired=ref("SchedulerCount"),
            maximum_percent=200,
            minimum_percent=100,
        ),
        SCHEDULER_ALARM: scheduler_alarm(),
    }


def scheduler_alarm() -> dict[str, Any]:
    """While no scheduler runs, plans make no orders: preventive work is missed silently."""
    actions = if_("HasAlarmTopic", [ref("AlarmTopicArn")], NO_VALUE)
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Condition": RUNS_SCHEDULER,
        "Properties": {
            "AlarmName": sub("${AWS::StackName}-scheduler-not-running"),
            "AlarmDescription": "No maintenance scheduler task has run for 5 minutes: "
            "maintenance plans create no orders (they are created once one runs again, "
            "late). Check the scheduler service's events and logs.",
            "Namespace": "ECS/ContainerInsights",
            "MetricName": "RunningTaskCount",
            "Dimensions": [
                {"Name": "ClusterName", "Value": ref(CLUSTER)},
                {"Name": "ServiceName", "Value": get_att(SCHEDULER_SERVICE, "Name")},
            ],
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 5,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
            # No data points at all means no task reported either.
            "TreatMissingData": "breaching",
            "AlarmActions": actions,
            "OKActions": actions,
        },
    }

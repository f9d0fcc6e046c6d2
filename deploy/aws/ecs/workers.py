"""Per status: a worker's task role, task definition, service and scaling."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import get_att, ref, select, split, sub
from deploy.aws.data import names as data
from deploy.aws.ecs.containers import container, http_check, task_definition, task_role
from deploy.aws.ecs.names import (
    BACKGROUND_SG,
    CLUSTER,
    METRICS_PORT,
    WORKER_STOP_TIMEOUT,
    imported,
    worker_backlog_policy_id,
    worker_role_id,
    worker_service_id,
    worker_stalled_alarm_id,
    worker_target_id,
    worker_task_id,
    worker_wake_policy_id,
)
from deploy.aws.ecs.services import scalable_target, service
from deploy.workflow import StatusQueue


def worker_resources(queue: StatusQueue) -> dict[str, Any]:
    role, task, svc = worker_role_id(queue), worker_task_id(queue), worker_service_id(queue)
    target = worker_target_id(queue)
    queue_url = imported(f"{data.queue_id(queue)}Url")
    # https://sqs.<region>.amazonaws.com/<account>/<name>: the name is the fifth part.
    queue_name = select(4, split("/", queue_url))

    def sqs_metric(metric_id: str, name: str, stat: str, period: int | None = None):
        stat_spec: dict[str, Any] = {
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": name,
                "Dimensions": [{"Name": "QueueName", "Value": queue_name}],
            },
            "Stat": stat,
        }
        if period:  # alarms need one; target tracking picks its own
            stat_spec["Period"] = period
        return {"Id": metric_id, "MetricStat": stat_spec, "ReturnData": False}

    return {
        role: task_role(f"The {queue.status} worker", f"{data.worker_policy_id(queue)}Arn"),
        task: task_definition(
            f"worker-{queue.slug}",
            role,
            "WorkerCpu",
            "WorkerMemory",
            container(
                f"worker-{queue.slug}",
                ["worker", queue.status],
                stop_timeout=WORKER_STOP_TIMEOUT,
                health=http_check(METRICS_PORT, "/metrics"),
                env={"WORKER_CONCURRENCY": ref("WorkerConcurrency")},
            ),
        ),
        svc: service(
            task,
            security_group=BACKGROUND_SG,
            desired=None,
            maximum_percent=200,
            minimum_percent=100,
        ),
        target: scalable_target(svc, ref("WorkerMinCount"), ref("WorkerMaxCount")),
        # Backlog per task: visible messages / running tasks, held near WorkerBacklogPerTask.
        worker_backlog_policy_id(queue): {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub("${AWS::StackName}-" + queue.slug + "-backlog"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref(target),
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": ref("WorkerBacklogPerTask"),
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                    "CustomizedMetricSpecification": {
                        "Metrics": [
                            sqs_metric("visible", "ApproximateNumberOfMessagesVisible", "Sum"),
                            {
                                "Id": "tasks",
                                "MetricStat": {
                                    "Metric": {
                                        "Namespace": "ECS/ContainerInsights",
                                        "MetricName": "RunningTaskCount",
                                        "Dimensions": [
                                            {"Name": "ClusterName", "Value": ref(CLUSTER)},
                                            {"Name": "ServiceName", "Value": get_att(svc, "Name")},
                                        ],
                                    },
                                    "Stat": "Average",
                                },
                                "ReturnData": False,
                            },
                            {
                                "Id": "backlog",
                                "Label": f"{queue.status} messages per worker task",
                                "Expression": "IF(tasks > 0, visible / tasks, visible)",
                                "ReturnData": True,
                            },
                        ]
                    },
                },
            },
        },
        # Target tracking cannot start a service at zero tasks (there is no per-task metric to
        # track); this step policy adds one task when messages wait and none is being handled.
        worker_wake_policy_id(queue): {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub("${AWS::StackName}-" + queue.slug + "-wake-up"),
                "PolicyType": "StepScaling",
                "ScalingTargetId": ref(target),
                "StepScalingPolicyConfiguration": {
                    "AdjustmentType": "ChangeInCapacity",
                    "Cooldown": 60,
                    "MetricAggregationType": "Maximum",
                    "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
                },
            },
        },
        worker_stalled_alarm_id(queue): {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": sub("${AWS::StackName}-" + queue.slug + "-worker-stalled"),
                "AlarmDescription": f"Messages wait in the {queue.status} queue and none is in "
                "flight: no worker is consuming (scaled to zero, or stuck). Adds a task.",
                "Metrics": [
                    sqs_metric("visible", "ApproximateNumberOfMessagesVisible", "Maximum", 60),
                    sqs_metric("inflight", "ApproximateNumberOfMessagesNotVisible", "Maximum", 60),
                    {
                        "Id": "stalled",
                        "Label": f"{queue.status} messages waiting with none in flight",
                        "Expression": "IF(visible > 0 AND inflight == 0, 1, 0)",
                        "ReturnData": True,
                    },
                ],
                "EvaluationPeriods": 2,
                "DatapointsToAlarm": 2,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [ref(worker_wake_policy_id(queue))],
            },
        },
    }

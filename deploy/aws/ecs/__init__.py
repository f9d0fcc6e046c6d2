"""The ECS Fargate stack (``deploy/aws/templates/ecs.yaml``): the services that run the image.

It imports the data stack's exports (``DataStackName``): names, settings and the IAM managed
policies, so the two stacks cannot disagree. Per status: a task role, a task definition, a
service and its scaling (target tracking on the backlog per task, plus a step policy that wakes
a service scaled to zero).

One module per concern: ``names`` (logical ids, ports and timeouts the others share),
``parameters`` (parameters and conditions), ``containers`` (containers, task definitions, task
roles), ``services`` (services, scalable targets), ``network`` (security groups, load
balancer), ``cache`` (the API limits' Valkey), ``shared`` (what the stack has once), ``web``,
``relay``, ``scheduler`` (the maintenance scheduler), ``day_one`` (the one-off ``bootstrap``
task), ``workers`` (per status) and ``outputs``; ``template`` assembles them.
"""

from __future__ import annotations

from typing import Any

from deploy.aws.ecs.day_one import DAY_ONE_COMMAND, day_one_resources
from deploy.aws.ecs.names import (
    DAY_ONE_CONTAINER,
    DAY_ONE_TASK,
    MAX_RELAY_GROUPS,
    RELAY_SERVICE,
    SCHEDULER_ALARM,
    SCHEDULER_ROLE,
    SCHEDULER_SERVICE,
    SCHEDULER_TASK,
    WORKER_STOP_TIMEOUT,
    imported,
    relay_condition,
    worker_backlog_policy_id,
    worker_role_id,
    worker_service_id,
    worker_stalled_alarm_id,
    worker_target_id,
    worker_task_id,
    worker_wake_policy_id,
)
from deploy.aws.ecs.outputs import outputs
from deploy.aws.ecs.parameters import conditions, parameters
from deploy.aws.ecs.relay import relay_ids, relay_resources
from deploy.aws.ecs.scheduler import SCHEDULER_COMMAND, scheduler_resources
from deploy.aws.ecs.shared import shared_resources
from deploy.aws.ecs.workers import worker_resources
from deploy.workflow import StatusQueue

# What deploy/aws/render.py, deploy/aws/check.py and tests/deploy/test_aws_*.py use.
__all__ = [
    "DAY_ONE_COMMAND",
    "DAY_ONE_CONTAINER",
    "DAY_ONE_TASK",
    "MAX_RELAY_GROUPS",
    "RELAY_SERVICE",
    "SCHEDULER_ALARM",
    "SCHEDULER_COMMAND",
    "SCHEDULER_ROLE",
    "SCHEDULER_SERVICE",
    "SCHEDULER_TASK",
    "WORKER_STOP_TIMEOUT",
    "imported",
    "relay_condition",
    "relay_ids",
    "template",
    "worker_backlog_policy_id",
    "worker_role_id",
    "worker_service_id",
    "worker_stalled_alarm_id",
    "worker_target_id",
    "worker_task_id",
    "worker_wake_policy_id",
]


def template(queues: list[StatusQueue]) -> dict[str, Any]:
    resources = shared_resources()
    resources.update(day_one_resources())
    for group in range(MAX_RELAY_GROUPS):
        resources.update(relay_resources(group))
    resources.update(scheduler_resources())
    for queue in queues:
        resources.update(worker_resources(queue))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Work-order portal on ECS Fargate: web behind a load balancer, one event "
        "relay, the webhook dispatcher, the maintenance scheduler, migration and day-one tasks "
        "and one autoscaled worker "
        f"service per status ({', '.join(q.status for q in queues)}).",
        "Parameters": parameters(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": outputs(queues),
    }

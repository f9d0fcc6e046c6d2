"""Logical ids, ports and timeouts several modules share, and the data stack's exports by name."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import import_value, status_resource_id, sub

WEB_PORT = 8000
METRICS_PORT = 9100
#: Workers finish in-flight tasks within WORKER_SOFT_SHUTDOWN_TIMEOUT (60 s); ECS allows 120.
WORKER_STOP_TIMEOUT = 90
#: gunicorn's graceful timeout is 25 s.
WEB_STOP_TIMEOUT = 30
OTHER_STOP_TIMEOUT = 30

CLUSTER = "Cluster"
LOG_GROUP = "LogGroup"
EXECUTION_ROLE = "TaskExecutionRole"
ALB = "LoadBalancer"
ALB_SG = "LoadBalancerSecurityGroup"
WEB_SG = "WebTaskSecurityGroup"
BACKGROUND_SG = "BackgroundTaskSecurityGroup"
#: The API limits' shared store (ElastiCache Serverless), unless CacheUrlSecretArn names one.
CACHE = "RateLimitCache"
CACHE_SG = "CacheSecurityGroup"
TARGET_GROUP = "WebTargetGroup"
HTTP_LISTENER = "HttpListener"
HTTPS_LISTENER = "HttpsListener"
WEB_SERVICE = "WebService"
RELAY_SERVICE = "RelayService"
#: Relay groups the stack can run (RelayGroups); each group is one service of one task.
MAX_RELAY_GROUPS = 4
WEBHOOKS_SERVICE = "WebhooksService"
#: The maintenance scheduler: orders from preventive-maintenance plans (several are safe).
SCHEDULER_ROLE = "SchedulerTaskRole"
SCHEDULER_TASK = "SchedulerTaskDefinition"
SCHEDULER_SERVICE = "SchedulerService"
SCHEDULER_ALARM = "SchedulerNotRunningAlarm"
#: ``SchedulerCount`` is not 0: the scheduler's alarm is only wanted while one should run.
RUNS_SCHEDULER = "RunsScheduler"
MIGRATE_TASK = "MigrateTaskDefinition"
#: Day one (``manage bootstrap``), a one-off task like the migration: docs/deploy.md.
DAY_ONE_TASK = "DayOneTaskDefinition"
DAY_ONE_CONTAINER = "day-one"
#: The first superuser's password, generated unless SuperuserPasswordSecretArn names one.
SUPERUSER_PASSWORD = "SuperuserPasswordSecret"


def imported(output_key: str) -> dict[str, Any]:
    return import_value(sub("${DataStackName}-" + output_key))


worker_role_id = status_resource_id("WorkerTaskRole")
worker_task_id = status_resource_id("WorkerTaskDefinition")
worker_service_id = status_resource_id("WorkerService")
worker_target_id = status_resource_id("WorkerScalableTarget")
worker_backlog_policy_id = status_resource_id("WorkerBacklogScaling")
worker_wake_policy_id = status_resource_id("WorkerWakeUpScaling")
worker_stalled_alarm_id = status_resource_id("WorkerStalledAlarm")


def relay_condition(group: int) -> str:
    return f"RunsRelayGroup{group}"

"""The stack's parameters and the conditions derived from them: what an operator sets."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import equals, not_, ref
from deploy.aws.ecs.cache import cache_conditions
from deploy.aws.ecs.names import MAX_RELAY_GROUPS, METRICS_PORT, relay_condition
from deploy.aws.ecs.scheduler import scheduler_conditions


def parameters() -> dict[str, Any]:
    def number(default: int, description: str, minimum: int = 0, maximum: int | None = None):
        parameter: dict[str, Any] = {
            "Type": "Number",
            "Default": default,
            "MinValue": minimum,
            "Description": description,
        }
        if maximum is not None:
            parameter["MaxValue"] = maximum
        return parameter

    cpu = ["256", "512", "1024", "2048", "4096"]
    return {
        "DataStackName": {
            "Type": "String",
            "Default": "workorders-prod-data",
            "Description": "The data stack (deploy/aws/templates/data.yaml) whose exports this "
            "stack imports.",
        },
        "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "The VPC of the services."},
        "PublicSubnetIds": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets of the internet-facing load balancer (two or more AZs).",
        },
        "PrivateSubnetIds": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets of the tasks (no public IPs): they need a NAT gateway or VPC "
            "endpoints for ECR, CloudWatch Logs, Secrets Manager, STS, DynamoDB, SNS, SQS and "
            "CloudWatch, and a route to the database.",
        },
        "ImageUri": {
            "Type": "String",
            "Description": "The work-order-portal image, e.g. "
            "<account>.dkr.ecr.<region>.amazonaws.com/work-order-portal:<tag>.",
        },
        "MigrationImageUri": {
            "Type": "String",
            "Default": "",
            "Description": "Image of the migration task; empty = ImageUri. Set it to the new "
            "image first, run the migration, then move ImageUri (README).",
        },
        "CertificateArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional ACM certificate: HTTPS on 443 and HTTP redirected to it. "
            "Empty: plain HTTP on 80 (testing only).",
        },
        "DatabaseUrlSecretArn": {
            "Type": "String",
            "Description": "Secrets Manager secret (ARN) holding DATABASE_URL "
            "(postgres://user:password@host:5432/name).",
        },
        "SecretKeySecretArn": {
            "Type": "String",
            "Description": "Secrets Manager secret (ARN) holding Django's SECRET_KEY.",
        },
        "CacheUrlSecretArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional secret holding CACHE_URL (redis:// or rediss://...) of a "
            "Redis or Valkey of your own for the API's limits. Empty: the stack creates an "
            "ElastiCache Serverless Valkey cache that only the web tasks reach.",
        },
        "SuperuserPasswordSecretArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional secret holding the first superuser's password, read only by "
            "the day-one task (docs/deploy.md). Empty: the stack generates one "
            "(output SuperuserPasswordArn).",
        },
        "SecretsKmsKeyArn": {
            "Type": "String",
            "Default": "",
            "Description": "Customer managed KMS key of the secrets, if not aws/secretsmanager.",
        },
        "AllowedHosts": {
            "Type": "String",
            "Description": "ALLOWED_HOSTS, comma-separated (the load balancer's DNS name is "
            "added).",
        },
        "CsrfTrustedOrigins": {
            "Type": "String",
            "Default": "",
            "Description": "CSRF_TRUSTED_ORIGINS, comma-separated (https://portal.example.com).",
        },
        "LogLevel": {
            "Type": "String",
            "Default": "INFO",
            "AllowedValues": ["DEBUG", "INFO", "WARNING", "ERROR"],
            "Description": "LOG_LEVEL of every container.",
        },
        "LogRetentionDays": {
            "Type": "Number",
            "Default": 30,
            "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731],
            "Description": "Days CloudWatch Logs keeps the containers' logs.",
        },
        "LogKmsKeyArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional KMS key for the log group (its key policy must allow "
            "logs.<region>.amazonaws.com).",
        },
        "AccessLogBucket": {
            "Type": "String",
            "Default": "",
            "Description": "Optional S3 bucket for the load balancer's access logs.",
        },
        "MetricsSecurityGroupId": {
            "Type": "String",
            "Default": "",
            "Description": "Optional security group of a Prometheus scraper: allowed to reach "
            f"every task's /metrics on port {METRICS_PORT}.",
        },
        "DesiredWebCount": number(2, "Web tasks at least (autoscaling adds more).", 1),
        "WebMaxCount": number(10, "Web tasks at most.", 1),
        "WebCpu": {
            "Type": "String",
            "Default": "512",
            "AllowedValues": cpu,
            "Description": "CPU units of a web task.",
        },
        "WebMemory": number(1024, "MiB of a web task (must suit WebCpu on Fargate).", 512),
        "WebConcurrency": number(2, "WEB_CONCURRENCY: gunicorn worker processes per task.", 1),
        "WebRequestsPerTarget": number(
            1000, "Target requests per web task per minute (ALBRequestCountPerTarget).", 1
        ),
        "WorkerCpu": {
            "Type": "String",
            "Default": "256",
            "AllowedValues": cpu,
            "Description": "CPU units of a worker task.",
        },
        "WorkerMemory": number(512, "MiB of a worker task.", 512),
        "WorkerConcurrency": number(4, "WORKER_CONCURRENCY: handler threads per worker task.", 1),
        "WorkerMinCount": number(
            1, "Worker tasks per status at least; 0 lets an idle status scale to zero.", 0
        ),
        "WorkerMaxCount": number(10, "Worker tasks per status at most.", 1),
        "WorkerBacklogPerTask": number(
            100, "Target visible messages per worker task (target tracking).", 1
        ),
        "BackgroundCpu": {
            "Type": "String",
            "Default": "256",
            "AllowedValues": cpu,
            "Description": "CPU units of the relay, dispatcher, scheduler and migration.",
        },
        "BackgroundMemory": number(
            512, "MiB of the relay, dispatcher, scheduler and migration tasks.", 512
        ),
        "WebhooksCount": number(
            1, "Webhook dispatcher tasks (several are safe: deliveries are locked).", 0
        ),
        "SchedulerCount": number(
            1,
            "Maintenance scheduler tasks (several are safe: plans are locked, orders have "
            "deterministic ids); 0 stops creating the orders of maintenance plans.",
            0,
        ),
        "AlarmTopicArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional SNS topic for this stack's alarms (the relay or the "
            "maintenance scheduler not running).",
        },
        "RelayGroups": {
            "Type": "String",
            "Default": "1",
            "AllowedValues": [str(n) for n in range(1, MAX_RELAY_GROUPS + 1)],
            "Description": "Event relays sharing the stream (EVENT_RELAY_GROUPS), one service "
            "each: about 1,000 events/s per relay (docs/capacity.md).",
        },
    }


def conditions() -> dict[str, Any]:
    def has(name: str) -> dict[str, Any]:
        return not_(equals(ref(name), ""))

    return {
        "HasCertificate": has("CertificateArn"),
        "HasCacheUrl": has("CacheUrlSecretArn"),
        **cache_conditions(),
        "CreateSuperuserPassword": equals(ref("SuperuserPasswordSecretArn"), ""),
        "HasSecretsKey": has("SecretsKmsKeyArn"),
        "HasCsrfOrigins": has("CsrfTrustedOrigins"),
        "HasLogKey": has("LogKmsKeyArn"),
        "HasAccessLogs": has("AccessLogBucket"),
        "HasMetricsScraper": has("MetricsSecurityGroupId"),
        "HasMigrationImage": has("MigrationImageUri"),
        "HasAlarmTopic": has("AlarmTopicArn"),
        **scheduler_conditions(),
        **{relay_condition(group): runs_relay_group(group) for group in range(1, MAX_RELAY_GROUPS)},
    }


def runs_relay_group(group: int) -> dict[str, Any]:
    """RelayGroups is more than ``group``."""
    options = [equals(ref("RelayGroups"), str(n)) for n in range(group + 1, MAX_RELAY_GROUPS + 1)]
    return options[0] if len(options) == 1 else {"Fn::Or": options}

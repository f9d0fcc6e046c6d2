"""The ECS Fargate stack (``deploy/aws/templates/ecs.yaml``): the services that run the image.

It imports the data stack's exports (``DataStackName``): names, settings and the IAM managed
policies, so the two stacks cannot disagree. Per status: a task role, a task definition, a
service and its scaling (target tracking on the backlog per task, plus a step policy that wakes
a service scaled to zero).
"""

from __future__ import annotations

from typing import Any

from deploy.aws import data
from deploy.aws.cfn import (
    NO_VALUE,
    equals,
    exported,
    get_att,
    if_,
    import_value,
    join,
    not_,
    output,
    policy,
    ref,
    select,
    split,
    status_resource_id,
    sub,
    tags,
)
from deploy.workflow import StatusQueue

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
TARGET_GROUP = "WebTargetGroup"
HTTP_LISTENER = "HttpListener"
HTTPS_LISTENER = "HttpsListener"
WEB_SERVICE = "WebService"
RELAY_SERVICE = "RelayService"
#: Relay groups the stack can run (RelayGroups); each group is one service of one task.
MAX_RELAY_GROUPS = 4
WEBHOOKS_SERVICE = "WebhooksService"
MIGRATE_TASK = "MigrateTaskDefinition"


def imported(output_key: str) -> dict[str, Any]:
    return import_value(sub("${DataStackName}-" + output_key))


worker_role_id = status_resource_id("WorkerTaskRole")
worker_task_id = status_resource_id("WorkerTaskDefinition")
worker_service_id = status_resource_id("WorkerService")
worker_target_id = status_resource_id("WorkerScalableTarget")
worker_backlog_policy_id = status_resource_id("WorkerBacklogScaling")
worker_wake_policy_id = status_resource_id("WorkerWakeUpScaling")
worker_stalled_alarm_id = status_resource_id("WorkerStalledAlarm")


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
            "Description": "Optional secret holding CACHE_URL (redis://...): one rate-limit "
            "budget per integrator across all web tasks.",
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
            "Description": "CPU units of the relay, dispatcher and migration.",
        },
        "BackgroundMemory": number(512, "MiB of the relay, dispatcher and migration tasks.", 512),
        "WebhooksCount": number(
            1, "Webhook dispatcher tasks (several are safe: deliveries are locked).", 0
        ),
        "AlarmTopicArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional SNS topic for this stack's alarms (the relay not running).",
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
        "HasSecretsKey": has("SecretsKmsKeyArn"),
        "HasCsrfOrigins": has("CsrfTrustedOrigins"),
        "HasLogKey": has("LogKmsKeyArn"),
        "HasAccessLogs": has("AccessLogBucket"),
        "HasMetricsScraper": has("MetricsSecurityGroupId"),
        "HasMigrationImage": has("MigrationImageUri"),
        "HasAlarmTopic": has("AlarmTopicArn"),
        **{relay_condition(group): runs_relay_group(group) for group in range(1, MAX_RELAY_GROUPS)},
    }


def relay_condition(group: int) -> str:
    return f"RunsRelayGroup{group}"


def runs_relay_group(group: int) -> dict[str, Any]:
    """RelayGroups is more than ``group``."""
    options = [equals(ref("RelayGroups"), str(n)) for n in range(group + 1, MAX_RELAY_GROUPS + 1)]
    return options[0] if len(options) == 1 else {"Fn::Or": options}


# -- containers --------------------------------------------------------------------------------


def environment(extra: dict[str, Any]) -> list[Any]:
    """The settings every container gets (portal/settings.py), then the role's own."""
    common: dict[str, Any] = {
        "AWS_REGION": ref("AWS::Region"),
        "ORDERS_RESOURCE_PREFIX": imported("Prefix"),
        "ALLOWED_HOSTS": sub("${AllowedHosts},${" + ALB + ".DNSName}"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": ref("LogLevel"),
        "METRICS_PORT": str(METRICS_PORT),
        **extra,
    }
    variables: list[Any] = [{"Name": k, "Value": v} for k, v in common.items()]
    variables.append(
        if_(
            "HasCsrfOrigins",
            {"Name": "CSRF_TRUSTED_ORIGINS", "Value": ref("CsrfTrustedOrigins")},
            NO_VALUE,
        )
    )
    return variables


def setting_arn(variable: str) -> dict[str, Any]:
    return sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${DataStackName}/"
        + variable
    )


def secrets(*, cache: bool = False) -> list[Any]:
    """Secrets Manager secrets, and the queue settings the data stack keeps in SSM (read when
    the task starts, so they can be tuned without the export lock)."""
    result: list[Any] = [
        {"Name": "DATABASE_URL", "ValueFrom": ref("DatabaseUrlSecretArn")},
        {"Name": "SECRET_KEY", "ValueFrom": ref("SecretKeySecretArn")},
        *(
            {"Name": variable, "ValueFrom": setting_arn(variable)}
            for variable, _ in data.SETTINGS.values()
        ),
    ]
    if cache:
        result.append(
            if_(
                "HasCacheUrl",
                {"Name": "CACHE_URL", "ValueFrom": ref("CacheUrlSecretArn")},
                NO_VALUE,
            )
        )
    return result


def http_check(port: int, path: str) -> dict[str, Any]:
    """Liveness inside the container (the image has Python, not curl)."""
    probe = (
        f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}', timeout=3)"
    )
    return {
        "Command": ["CMD", "python", "-c", probe],
        "Interval": 15,
        "Timeout": 5,
        "Retries": 3,
        "StartPeriod": 30,
    }


def container(
    name: str,
    command: list[str],
    *,
    image: Any = None,
    stop_timeout: int,
    health: dict[str, Any] | None,
    env: dict[str, Any] | None = None,
    cache: bool = False,
    web: bool = False,
) -> dict[str, Any]:
    ports = [{"ContainerPort": METRICS_PORT, "Protocol": "tcp", "Name": "metrics"}]
    if web:
        ports.insert(0, {"ContainerPort": WEB_PORT, "Protocol": "tcp", "Name": "http"})
    definition: dict[str, Any] = {
        "Name": name,
        "Image": image if image is not None else ref("ImageUri"),
        # ENTRYPOINT is `python -m portal.role`; the command picks the role.
        "Command": command,
        "Essential": True,
        "User": "10001:10001",
        "ReadonlyRootFilesystem": True,
        "MountPoints": [{"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False}],
        "PortMappings": ports,
        "Environment": environment(env or {}),
        "Secrets": secrets(cache=cache),
        "StopTimeout": stop_timeout,
        "LinuxParameters": {"InitProcessEnabled": True},
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": ref(LOG_GROUP),
                "awslogs-region": ref("AWS::Region"),
                "awslogs-stream-prefix": name,
            },
        },
    }
    if health is not None:
        definition["HealthCheck"] = health
    return definition


def task_definition(
    family: str, role: str | None, cpu: str, memory: str, body: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "Family": sub("${AWS::StackName}-" + family),
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": ref(cpu),
            "Memory": ref(memory),
            "RuntimePlatform": {"OperatingSystemFamily": "LINUX", "CpuArchitecture": "X86_64"},
            "ExecutionRoleArn": get_att(EXECUTION_ROLE, "Arn"),
            "TaskRoleArn": get_att(role, "Arn") if role else NO_VALUE,
            # The root filesystem is read-only; /tmp is the task's own scratch space.
            "Volumes": [{"Name": "tmp"}],
            "ContainerDefinitions": [body],
        },
    }


def task_role(description: str, policy_export: str) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": description,
            "AssumeRolePolicyDocument": policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "ArnLike": {
                            "aws:SourceArn": sub(
                                "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*"
                            )
                        },
                        "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")},
                    },
                }
            ),
            "ManagedPolicyArns": [imported(policy_export)],
        },
    }


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


# -- the fixed part: cluster, logs, roles, load balancer, web, relay, webhooks, migration -----


def shared_resources() -> dict[str, Any]:
    secret_arns = [
        ref("DatabaseUrlSecretArn"),
        ref("SecretKeySecretArn"),
        if_("HasCacheUrl", ref("CacheUrlSecretArn"), NO_VALUE),
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
        "WebTaskRole": task_role("Web tasks: API, admin, pipeline page", "WebPolicyArn"),
        "RelayTaskRole": task_role("The event relay", "RelayPolicyArn"),
        "WebhooksTaskRole": task_role("The webhook dispatcher", "WebhooksPolicyArn"),
        "WebTaskDefinition": task_definition(
            "web",
            "WebTaskRole",
            "WebCpu",
            "WebMemory",
            container(
                "web",
                ["web"],
                stop_timeout=WEB_STOP_TIMEOUT,
                health=http_check(WEB_PORT, "/healthz"),
                env={
                    "WEB_CONCURRENCY": ref("WebConcurrency"),
                    "ORDERS_ATTACHMENTS_BUCKET": imported("AttachmentsBucketName"),
                    # The ALB appends the client's address to X-Forwarded-For (login throttle).
                    "TRUSTED_PROXY_COUNT": "1",
                    # With a certificate the ALB ends TLS: Django trusts its X-Forwarded-Proto,
                    # cookies are HTTPS-only and browsers are told to stay on HTTPS.
                    "TRUST_X_FORWARDED_PROTO": if_("HasCertificate", "true", "false"),
                    "SECURE_COOKIES": if_("HasCertificate", "true", "false"),
                    "SECURE_HSTS_SECONDS": if_("HasCertificate", "31536000", "0"),
                },
                cache=True,
                web=True,
            ),
        ),
        WEB_SERVICE: service(
            "WebTaskDefinition",
            security_group=WEB_SG,
            desired=None,
            maximum_percent=200,
            minimum_percent=100,
            depends_on=[HTTP_LISTENER],
            extra={
                "HealthCheckGracePeriodSeconds": 60,
                "LoadBalancers": [
                    {
                        "ContainerName": "web",
                        "ContainerPort": WEB_PORT,
                        "TargetGroupArn": ref(TARGET_GROUP),
                    }
                ],
            },
        ),
        "WebScalableTarget": scalable_target(
            WEB_SERVICE, ref("DesiredWebCount"), ref("WebMaxCount")
        ),
        "WebCpuScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub("${AWS::StackName}-web-cpu"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref("WebScalableTarget"),
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                    "TargetValue": 60,
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            },
        },
        "WebRequestScaling": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Properties": {
                "PolicyName": sub("${AWS::StackName}-web-requests"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref("WebScalableTarget"),
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ALBRequestCountPerTarget",
                        "ResourceLabel": join(
                            "/",
                            [
                                get_att(ALB, "LoadBalancerFullName"),
                                get_att(TARGET_GROUP, "TargetGroupFullName"),
                            ],
                        ),
                    },
                    "TargetValue": ref("WebRequestsPerTarget"),
                    "ScaleOutCooldown": 60,
                    "ScaleInCooldown": 300,
                },
            },
        },
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


def network_resources() -> dict[str, Any]:
    forward = [{"Type": "forward", "TargetGroupArn": ref(TARGET_GROUP)}]
    redirect = [
        {
            "Type": "redirect",
            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
        }
    ]

    def metrics_ingress(group: str) -> dict[str, Any]:
        return {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Condition": "HasMetricsScraper",
            "Properties": {
                "Description": "Prometheus scrapes /metrics",
                "GroupId": ref(group),
                "IpProtocol": "tcp",
                "FromPort": METRICS_PORT,
                "ToPort": METRICS_PORT,
                "SourceSecurityGroupId": ref("MetricsSecurityGroupId"),
            },
        }

    all_egress = [
        {
            # Database, AWS APIs, and webhook endpoints on any port of the internet.
            "Description": "Outbound: database, AWS APIs, webhook endpoints",
            "IpProtocol": "-1",
            "CidrIp": "0.0.0.0/0",
        }
    ]
    return {
        ALB_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Load balancer: HTTPS (and HTTP, redirected) from anywhere",
                "VpcId": ref("VpcId"),
                "SecurityGroupIngress": [
                    {
                        "Description": "HTTPS from anywhere",
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": "0.0.0.0/0",
                    },
                    {
                        "Description": "HTTP from anywhere (redirected when HTTPS is on)",
                        "IpProtocol": "tcp",
                        "FromPort": 80,
                        "ToPort": 80,
                        "CidrIp": "0.0.0.0/0",
                    },
                ],
            },
        },
        "LoadBalancerToWebEgress": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                "Description": "To the web tasks only",
                "GroupId": ref(ALB_SG),
                "IpProtocol": "tcp",
                "FromPort": WEB_PORT,
                "ToPort": WEB_PORT,
                "DestinationSecurityGroupId": ref(WEB_SG),
            },
        },
        WEB_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": f"Web tasks: port {WEB_PORT} from the load balancer only",
                "VpcId": ref("VpcId"),
                "SecurityGroupEgress": all_egress,
            },
        },
        "WebMetricsIngress": metrics_ingress(WEB_SG),
        "WebFromLoadBalancerIngress": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "Description": "From the load balancer",
                "GroupId": ref(WEB_SG),
                "IpProtocol": "tcp",
                "FromPort": WEB_PORT,
                "ToPort": WEB_PORT,
                "SourceSecurityGroupId": ref(ALB_SG),
            },
        },
        BACKGROUND_SG: {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Workers, relay, webhook dispatcher, migration: no inbound",
                "VpcId": ref("VpcId"),
                "SecurityGroupEgress": all_egress,
            },
        },
        "BackgroundMetricsIngress": metrics_ingress(BACKGROUND_SG),
        ALB: {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "Type": "application",
                "Scheme": "internet-facing",
                "Subnets": ref("PublicSubnetIds"),
                "SecurityGroups": [ref(ALB_SG)],
                "LoadBalancerAttributes": [
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "deletion_protection.enabled", "Value": "true"},
                    {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
                    if_(
                        "HasAccessLogs",
                        {"Key": "access_logs.s3.enabled", "Value": "true"},
                        NO_VALUE,
                    ),
                    if_(
                        "HasAccessLogs",
                        {"Key": "access_logs.s3.bucket", "Value": ref("AccessLogBucket")},
                        NO_VALUE,
                    ),
                ],
            },
        },
        TARGET_GROUP: {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "VpcId": ref("VpcId"),
                "TargetType": "ip",
                "Protocol": "HTTP",
                "Port": WEB_PORT,
                # Liveness, not readiness: /readyz fails every task at once when the database,
                # DynamoDB or SNS blips, and ECS would then replace the whole healthy fleet.
                "HealthCheckPath": "/healthz",
                "HealthCheckIntervalSeconds": 15,
                "HealthCheckTimeoutSeconds": 5,
                "HealthyThresholdCount": 2,
                "UnhealthyThresholdCount": 3,
                "Matcher": {"HttpCode": "200"},
                "TargetGroupAttributes": [
                    # Below the web task's 30 s stop timeout (gunicorn drains in 25 s).
                    {"Key": "deregistration_delay.timeout_seconds", "Value": "25"},
                ],
            },
        },
        HTTP_LISTENER: {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref(ALB),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": if_("HasCertificate", redirect, forward),
            },
        },
        HTTPS_LISTENER: {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Condition": "HasCertificate",
            "Properties": {
                "LoadBalancerArn": ref(ALB),
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "Certificates": [{"CertificateArn": ref("CertificateArn")}],
                "DefaultActions": forward,
            },
        },
    }


# -- per status ----------------------------------------------------------------------------------


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
        "PrivateSubnetIds": output(
            join(",", ref("PrivateSubnetIds")), "Subnets for aws ecs run-task"
        ),
        "WebTaskSecurityGroupId": output(
            ref(WEB_SG), "Allow it on the database's security group (5432) and the cache's"
        ),
        "BackgroundTaskSecurityGroupId": output(
            ref(BACKGROUND_SG), "Allow it on the database's security group (5432)"
        ),
        "WebServiceName": output(get_att(WEB_SERVICE, "Name"), "The web service"),
        "RelayServiceName": output(get_att(RELAY_SERVICE, "Name"), "The event relay service"),
        "WebhooksServiceName": output(get_att(WEBHOOKS_SERVICE, "Name"), "The dispatcher"),
    }
    for queue in queues:
        result[f"{worker_service_id(queue)}Name"] = output(
            get_att(worker_service_id(queue), "Name"), f"The {queue.status} worker service"
        )
    return exported(result)


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


def template(queues: list[StatusQueue]) -> dict[str, Any]:
    resources = shared_resources()
    for group in range(MAX_RELAY_GROUPS):
        resources.update(relay_resources(group))
    for queue in queues:
        resources.update(worker_resources(queue))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Work-order portal on ECS Fargate: web behind a load balancer, one event "
        "relay, the webhook dispatcher, a migration task and one autoscaled worker service per "
        f"status ({', '.join(q.status for q in queues)}).",
        "Parameters": parameters(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": outputs(queues),
    }

"""Containers, task definitions and task roles: what every task of the stack runs with."""

from __future__ import annotations

from typing import Any

from deploy.aws.cfn import NO_VALUE, get_att, if_, policy, ref, sub
from deploy.aws.data import names as data
from deploy.aws.ecs.cache import cache_url
from deploy.aws.ecs.names import ALB, EXECUTION_ROLE, LOG_GROUP, METRICS_PORT, WEB_PORT, imported


def environment(extra: dict[str, Any], *, cache: bool = False) -> list[Any]:
    """The settings every container gets (portal/settings.py), then the role's own; with
    ``cache``, CACHE_URL of the stack's cache (when it made one: otherwise a secret's)."""
    common: dict[str, Any] = {
        "AWS_REGION": ref("AWS::Region"),
        "ORDERS_RESOURCE_PREFIX": imported("Prefix"),
        "ALLOWED_HOSTS": sub("${AllowedHosts},${" + ALB + ".DNSName}"),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": ref("LogLevel"),
        "METRICS_PORT": str(METRICS_PORT),
        # Keep PostgreSQL connections for reuse (health-checked first): docs/deploy.md sizes
        # max_connections for one per gunicorn, Celery and dispatcher thread.
        "CONN_MAX_AGE": "60",
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
    if cache:
        variables.append(if_("CreateCache", {"Name": "CACHE_URL", "Value": cache_url()}, NO_VALUE))
    return variables


def setting_arn(variable: str) -> dict[str, Any]:
    return sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${DataStackName}/"
        + variable
    )


def secrets(*, cache: bool = False, extra: list[Any] | None = None) -> list[Any]:
    """Secrets Manager secrets, and the queue settings the data stack keeps in SSM (read when
    the task starts, so they can be tuned without the export lock); then the role's own."""
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
    return result + list(extra or [])


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
    extra_secrets: list[Any] | None = None,
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
        "Environment": environment(env or {}, cache=cache),
        "Secrets": secrets(cache=cache, extra=extra_secrets),
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
    """A task role with the data stack's managed policy ``policy_export``, and nothing else:
    every role's permissions are decided in the data stack (``deploy/aws/data/policies.py``)."""
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

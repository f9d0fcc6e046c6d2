"""Validate the checked-in CloudFormation templates offline (write-free).

1. Every status of the workflow table has its whole set of resources in both templates (queue,
   dead-letter queue, filtered subscription, alarms, IAM policy; worker task, service and
   scaling), the worker policies reach only their own queues, the maintenance scheduler runs
   with the data stack's policy that may create orders, and the table fits DynamoDB's limits.
2. ``cfn-lint`` on both templates (errors, warnings and informational findings).
3. ``checkov --framework cloudformation`` with ``deploy/aws/.checkov.yaml``.

``validate()`` runs all three and raises :class:`deploy.tools.ValidationFailed` with every
problem found, or returns a one-line summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from deploy import tools
from deploy.aws import ecs
from deploy.aws.data import names as data
from deploy.aws.render import DATA_TEMPLATE, ECS_TEMPLATE, EKS_TEMPLATE
from deploy.workflow import StatusQueue, status_queues

CHECKOV_CONFIG = tools.ROOT / "deploy" / "aws" / ".checkov.yaml"
#: DynamoDB's limits on INCLUDE projections (API reference, ``Projection``).
MAX_NON_KEY_ATTRIBUTES_PER_INDEX = 20
MAX_NON_KEY_ATTRIBUTES_PER_TABLE = 100


def templates(root: Path = tools.ROOT) -> list[Path]:
    return [root / DATA_TEMPLATE, root / ECS_TEMPLATE, root / EKS_TEMPLATE]


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _require(tool: Path) -> None:
    if not tool.exists():
        raise tools.ValidationFailed(f"{tool} is missing: run `make deploy-tools`")


# -- 1. structure --------------------------------------------------------------------------------


def _resource(template: dict[str, Any], logical_id: str, kind: str, problems: list[str]):
    resource = template.get("Resources", {}).get(logical_id)
    if resource is None:
        problems.append(f"missing {kind} {logical_id}")
        return None
    if resource.get("Type") != kind:
        problems.append(f"{logical_id} is a {resource.get('Type')}, not a {kind}")
        return None
    return resource.get("Properties", {})


def _arns(statement: dict[str, Any]) -> list[Any]:
    resources = statement.get("Resource", [])
    return resources if isinstance(resources, list) else [resources]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for statement in document.get("Statement", []):
        if isinstance(statement, dict) and "Fn::If" in statement:
            statement = statement["Fn::If"][1]  # the conditional KMS statement, when present
        if isinstance(statement, dict) and "Effect" in statement:
            found.append(statement)
    return found


def status_problems(
    queue: StatusQueue, data_template: dict[str, Any], ecs_template: dict[str, Any]
) -> list[str]:
    """Everything one status needs, in both templates."""
    problems: list[str] = []
    q, dlq = data.queue_id(queue), data.dead_letter_queue_id(queue)
    status = queue.status

    props = _resource(data_template, q, "AWS::SQS::Queue", problems)
    if props is not None:
        if props.get("QueueName") != data.queue_name(queue):
            problems.append(f"{q} is not named {queue.queue_name('<Prefix>')}(.fifo)")
        if props.get("RedrivePolicy", {}).get("deadLetterTargetArn") != {
            "Fn::GetAtt": [dlq, "Arn"]
        }:
            problems.append(f"{q} does not redrive to {dlq}")
    props = _resource(data_template, dlq, "AWS::SQS::Queue", problems)
    if props is not None and props.get("QueueName") != data.dead_letter_queue_name(queue):
        problems.append(f"{dlq} is not named {queue.dead_letter_queue_name('<Prefix>')}(.fifo)")
    props = _resource(data_template, data.queue_policy_id(queue), "AWS::SQS::QueuePolicy", problems)
    if props is not None and props.get("Queues") != [{"Ref": q}]:
        problems.append(f"{data.queue_policy_id(queue)} does not apply to {q}")
    props = _resource(
        data_template, data.subscription_id(queue), "AWS::SNS::Subscription", problems
    )
    if props is not None:
        wanted = {
            "TopicArn": {"Ref": data.TOPIC},
            "Protocol": "sqs",
            "Endpoint": {"Fn::GetAtt": [q, "Arn"]},
            "RawMessageDelivery": True,
            "FilterPolicyScope": "MessageAttributes",
            "FilterPolicy": {"status": [status]},
        }
        for key, value in wanted.items():
            if props.get(key) != value:
                problems.append(f"{data.subscription_id(queue)}: {key} is not {value!r}")
    for alarm, watched in (
        (data.dead_letter_alarm_id(queue), dlq),
        (data.oldest_message_alarm_id(queue), q),
    ):
        props = _resource(data_template, alarm, "AWS::CloudWatch::Alarm", problems)
        if props is not None and props.get("Dimensions") != [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [watched, "QueueName"]}}
        ]:
            problems.append(f"{alarm} does not watch {watched}")
    policy_id = data.worker_policy_id(queue)
    props = _resource(data_template, policy_id, "AWS::IAM::ManagedPolicy", problems)
    if props is not None:
        own = {q, dlq}
        for statement in _statements(props.get("PolicyDocument", {})):
            for arn in _arns(statement):
                if (
                    isinstance(arn, dict)
                    and "Fn::GetAtt" in arn
                    and arn["Fn::GetAtt"][0] not in own
                ):
                    problems.append(f"{policy_id} reaches {arn['Fn::GetAtt'][0]}")
        sqs_targets = {
            arn["Fn::GetAtt"][0]
            for statement in _statements(props.get("PolicyDocument", {}))
            if any(str(a).startswith("sqs:") for a in statement.get("Action", []))
            for arn in _arns(statement)
            if isinstance(arn, dict) and "Fn::GetAtt" in arn
        }
        if sqs_targets != own:
            problems.append(f"{policy_id} covers {sorted(sqs_targets)}, not {sorted(own)}")
    outputs = data_template.get("Outputs", {})
    for key in (f"{q}Url", f"{q}Arn", f"{dlq}Url", f"{dlq}Arn", f"{policy_id}Arn"):
        if key not in outputs or "Export" not in outputs[key]:
            problems.append(f"data template does not export {key}")

    role, task = ecs.worker_role_id(queue), ecs.worker_task_id(queue)
    svc, target = ecs.worker_service_id(queue), ecs.worker_target_id(queue)
    props = _resource(ecs_template, role, "AWS::IAM::Role", problems)
    if props is not None and props.get("ManagedPolicyArns") != [ecs.imported(f"{policy_id}Arn")]:
        problems.append(f"{role} does not use {policy_id}")
    props = _resource(ecs_template, task, "AWS::ECS::TaskDefinition", problems)
    if props is not None:
        if props.get("TaskRoleArn") != {"Fn::GetAtt": [role, "Arn"]}:
            problems.append(f"{task} does not run as {role}")
        containers = props.get("ContainerDefinitions", [])
        if len(containers) != 1 or containers[0].get("Command") != ["worker", status]:
            problems.append(f"{task} does not run ['worker', {status!r}]")
        elif not (
            containers[0].get("ReadonlyRootFilesystem") is True
            and 90 <= containers[0].get("StopTimeout", 0) <= 120
        ):
            problems.append(f"{task}: read-only root and a 90-120 s stop timeout expected")
    props = _resource(ecs_template, svc, "AWS::ECS::Service", problems)
    if props is not None and props.get("TaskDefinition") != {"Ref": task}:
        problems.append(f"{svc} does not run {task}")
    props = _resource(ecs_template, target, "AWS::ApplicationAutoScaling::ScalableTarget", problems)
    if props is not None and f"${{{svc}.Name}}" not in str(props.get("ResourceId")):
        problems.append(f"{target} does not scale {svc}")
    queue_url = ecs.imported(f"{q}Url")
    backlog = ecs.worker_backlog_policy_id(queue)
    props = _resource(ecs_template, backlog, "AWS::ApplicationAutoScaling::ScalingPolicy", problems)
    if props is not None:
        spec = props.get("TargetTrackingScalingPolicyConfiguration", {})
        if props.get("ScalingTargetId") != {"Ref": target} or repr(queue_url) not in repr(spec):
            problems.append(f"{backlog} does not track {q}'s backlog on {target}")
    wake = ecs.worker_wake_policy_id(queue)
    props = _resource(ecs_template, wake, "AWS::ApplicationAutoScaling::ScalingPolicy", problems)
    if props is not None and props.get("ScalingTargetId") != {"Ref": target}:
        problems.append(f"{wake} does not scale {target}")
    alarm = ecs.worker_stalled_alarm_id(queue)
    props = _resource(ecs_template, alarm, "AWS::CloudWatch::Alarm", problems)
    if props is not None and (
        props.get("AlarmActions") != [{"Ref": wake}] or repr(queue_url) not in repr(props)
    ):
        problems.append(f"{alarm} does not watch {q} and trigger {wake}")
    return problems


def structure_problems(
    queues: Iterable[StatusQueue], data_template: dict[str, Any], ecs_template: dict[str, Any]
) -> list[str]:
    queues = list(queues)
    problems = [p for q in queues for p in status_problems(q, data_template, ecs_template)]
    # Nothing left over from a status that is no longer in the workflow table.
    services = {
        name
        for name, resource in ecs_template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::ECS::Service" and name.endswith("WorkerService")
    }
    extra = services - {ecs.worker_service_id(q) for q in queues}
    if extra:
        problems.append(f"worker services of no status: {sorted(extra)}")
    subscriptions = {
        name
        for name, resource in data_template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::SNS::Subscription"
    }
    extra = subscriptions - {data.subscription_id(q) for q in queues}
    if extra:
        problems.append(f"subscriptions of no status: {sorted(extra)}")
    problems.extend(table_problems(data_template))
    problems.extend(day_one_problems(ecs_template))
    problems.extend(scheduler_problems(data_template, ecs_template))
    return problems


def scheduler_problems(data_template: dict[str, Any], ecs_template: dict[str, Any]) -> list[str]:
    """The maintenance scheduler must run, or plans make no orders and nobody notices: its
    service of ``SchedulerCount`` tasks, the ``scheduler`` role, a health check on the metrics
    port, and a task role with the data stack's scheduler policy, which may write orders to
    the table and is exported for that role."""
    problems: list[str] = []
    props = _resource(ecs_template, ecs.SCHEDULER_SERVICE, "AWS::ECS::Service", problems)
    if props is not None:
        if props.get("TaskDefinition") != {"Ref": ecs.SCHEDULER_TASK}:
            problems.append(f"{ecs.SCHEDULER_SERVICE} does not run {ecs.SCHEDULER_TASK}")
        if props.get("DesiredCount") != {"Ref": "SchedulerCount"}:
            problems.append(f"{ecs.SCHEDULER_SERVICE} does not run SchedulerCount tasks")
    props = _resource(ecs_template, ecs.SCHEDULER_TASK, "AWS::ECS::TaskDefinition", problems)
    if props is not None:
        if props.get("TaskRoleArn") != {"Fn::GetAtt": [ecs.SCHEDULER_ROLE, "Arn"]}:
            problems.append(f"{ecs.SCHEDULER_TASK} does not run as {ecs.SCHEDULER_ROLE}")
        containers = props.get("ContainerDefinitions", [])
        if len(containers) != 1 or containers[0].get("Command") != ecs.SCHEDULER_COMMAND:
            problems.append(f"{ecs.SCHEDULER_TASK} does not run {ecs.SCHEDULER_COMMAND}")
        elif "/metrics" not in repr(containers[0].get("HealthCheck")):
            problems.append(f"{ecs.SCHEDULER_TASK}: no health check on /metrics")
    policy_export = f"{data.SCHEDULER_POLICY}Arn"
    props = _resource(ecs_template, ecs.SCHEDULER_ROLE, "AWS::IAM::Role", problems)
    if props is not None and props.get("ManagedPolicyArns") != [ecs.imported(policy_export)]:
        problems.append(f"{ecs.SCHEDULER_ROLE} does not use {data.SCHEDULER_POLICY}")
    props = _resource(data_template, data.SCHEDULER_POLICY, "AWS::IAM::ManagedPolicy", problems)
    if props is not None and not any(
        "dynamodb:PutItem" in s.get("Action", []) and data.TABLE_ARN in _arns(s)
        for s in _statements(props.get("PolicyDocument", {}))
    ):
        problems.append(f"{data.SCHEDULER_POLICY} may not put orders in the table")
    if "Export" not in data_template.get("Outputs", {}).get(policy_export, {}):
        problems.append(f"data template does not export {policy_export}")
    return problems


def day_one_problems(ecs_template: dict[str, Any]) -> list[str]:
    """Day one must run where the services cannot be exec'd into: its own task definition
    with a task role (bootstrap checks the table, topic and queues), `manage bootstrap`, a
    read-only root with a writable /tmp, the superuser's password only from a secret."""
    task = ecs_template.get("Resources", {}).get(ecs.DAY_ONE_TASK)
    if not task:
        return [f"no {ecs.DAY_ONE_TASK}: day one cannot run on ECS (docs/deploy.md)"]
    props = task.get("Properties", {})
    containers = props.get("ContainerDefinitions", [])
    problems = []
    if "Fn::GetAtt" not in props.get("TaskRoleArn", {}):
        problems.append(f"{ecs.DAY_ONE_TASK} has no task role: bootstrap's AWS checks would fail")
    if len(containers) != 1 or containers[0].get("Name") != ecs.DAY_ONE_CONTAINER:
        problems.append(f"{ecs.DAY_ONE_TASK} must have one container, {ecs.DAY_ONE_CONTAINER}")
        return problems
    container = containers[0]
    if container.get("Command") != ecs.DAY_ONE_COMMAND:
        problems.append(f"{ecs.DAY_ONE_TASK} runs {container.get('Command')}")
    if container.get("ReadonlyRootFilesystem") is not True or "/tmp" not in repr(
        container.get("MountPoints")
    ):
        problems.append(f"{ecs.DAY_ONE_TASK}: read-only root filesystem with a /tmp volume")
    if "DJANGO_SUPERUSER_PASSWORD" in repr(container.get("Environment")) or (
        "DJANGO_SUPERUSER_PASSWORD" not in repr(container.get("Secrets"))
    ):
        problems.append(f"{ecs.DAY_ONE_TASK}: DJANGO_SUPERUSER_PASSWORD only from a secret")
    if "DayOneTaskDefinitionArn" not in ecs_template.get("Outputs", {}):
        problems.append("no output DayOneTaskDefinitionArn for aws ecs run-task")
    return problems


def table_problems(data_template: dict[str, Any]) -> list[str]:
    """DynamoDB refuses an INCLUDE projection of more than 20 non-key attributes per index
    (100 per table); neither moto nor CloudFormation's own checks before deployment do."""
    properties = data_template["Resources"][data.TABLE]["Properties"]
    problems = []
    total = 0
    for index in properties.get("GlobalSecondaryIndexes", []):
        attributes = index.get("Projection", {}).get("NonKeyAttributes", [])
        total += len(attributes)
        if len(attributes) > MAX_NON_KEY_ATTRIBUTES_PER_INDEX:
            problems.append(
                f"index {index['IndexName']} projects {len(attributes)} non-key attributes; "
                f"DynamoDB allows {MAX_NON_KEY_ATTRIBUTES_PER_INDEX} per index, so CreateTable "
                "fails on AWS (provision and CloudFormation alike): change listing() in "
                "orders/repository/table_design.py"
            )
    if total > MAX_NON_KEY_ATTRIBUTES_PER_TABLE:
        problems.append(
            f"the indexes project {total} non-key attributes; DynamoDB allows "
            f"{MAX_NON_KEY_ATTRIBUTES_PER_TABLE} per table"
        )
    return problems


# -- 2. cfn-lint, 3. checkov ---------------------------------------------------------------------


def lint(paths: Iterable[Path]) -> str:
    """cfn-lint, informational findings included; raises ValidationFailed on any finding."""
    _require(tools.CFN_LINT)
    paths = [str(p) for p in paths]
    tools.run([tools.CFN_LINT, "--include-checks", "I", "--", *paths])
    return f"cfn-lint ok on {len(paths)} templates"


def checkov(paths: Iterable[Path]) -> int:
    """checkov with the checked-in configuration; returns the number of passed checks."""
    _require(tools.CHECKOV)
    files = [arg for path in paths for arg in ("-f", str(path))]
    output = tools.run([tools.CHECKOV, "--config-file", CHECKOV_CONFIG, *files])
    found = re.search(r"Passed checks: (\d+), Failed checks: (\d+)", output)
    if not found:
        raise tools.ValidationFailed(f"checkov printed no summary:\n{output}")
    if int(found.group(2)):
        raise tools.ValidationFailed(output)
    return int(found.group(1))


def skipped_checks() -> list[str]:
    return list(yaml.safe_load(CHECKOV_CONFIG.read_text()).get("skip-check", []))


def validate() -> str:
    paths = templates()
    failures: list[str] = []
    queues = status_queues()
    try:
        problems = structure_problems(queues, load(paths[0]), load(paths[1]))
    except (OSError, yaml.YAMLError, KeyError) as exc:
        problems = [f"cannot read the templates (run `make render-deploy`): {exc}"]
    if problems:
        failures.append("templates incomplete or invalid:\n  " + "\n  ".join(problems))
    linted = passed = None
    try:
        linted = lint(paths)
    except tools.ValidationFailed as exc:
        failures.append(str(exc))
    try:
        passed = checkov(paths)
    except tools.ValidationFailed as exc:
        failures.append(str(exc))
    if failures:
        raise tools.ValidationFailed("\n\n".join(failures))
    return (
        f"{linted}; checkov {passed} passed ({len(skipped_checks())} skipped in "
        f"deploy/aws/.checkov.yaml); {len(queues)} statuses complete"
    )


if __name__ == "__main__":
    print(validate())

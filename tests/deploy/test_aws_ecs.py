"""The ECS stack runs the services as the application needs them: exactly one relay per group,
workers that stop gracefully, the web's API limits counted in one shared store, and day one
(``bootstrap``) as a one-off task that can run, as the docs tell an operator to start it.

Rendering is pure (no AWS, no Django database).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.aws import check, ecs
from deploy.aws.data import names as data
from deploy.aws.render import ECS_TEMPLATE
from deploy.tools import ROOT
from deploy.workflow import status_queues
from tests.deploy import shell_docs
from tests.deploy.aws_support import evaluate, holds, templates

# -- (a) the relay, the workers' stops and the web's shared store ----------------------------------


def test_relay_runs_alone_and_workers_stop_gracefully(rendered):
    _, ecs_template = templates(rendered)
    relay = ecs_template["Resources"][ecs.RELAY_SERVICE]["Properties"]
    assert relay["DesiredCount"] == 1
    assert relay["DeploymentConfiguration"]["MaximumPercent"] == 100
    assert relay["DeploymentConfiguration"]["MinimumHealthyPercent"] == 0
    assert "RelayScalableTarget" not in ecs_template["Resources"]
    for queue in status_queues():
        task = ecs_template["Resources"][ecs.worker_task_id(queue)]["Properties"]
        container = task["ContainerDefinitions"][0]
        assert container["StopTimeout"] == ecs.WORKER_STOP_TIMEOUT
        assert container["ReadonlyRootFilesystem"] is True
        assert container["User"].startswith("10001")
        assert {"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False} in (
            container["MountPoints"]
        )


def test_an_alarm_fires_when_the_single_relay_is_not_running(rendered):
    _, ecs_template = templates(rendered)
    alarm = ecs_template["Resources"]["RelayNotRunningAlarm"]["Properties"]
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions["ServiceName"] == {"Fn::GetAtt": [ecs.RELAY_SERVICE, "Name"]}
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "RunningTaskCount",
        "LessThanThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "breaching"  # no task reports no data at all


def test_each_relay_group_is_one_service_of_one_task_switched_on_by_relay_groups(rendered):
    _, ecs_template = templates(rendered)
    resources = ecs_template["Resources"]
    for group in range(ecs.MAX_RELAY_GROUPS):
        task_id, service_id, alarm_id = ecs.relay_ids(group)
        service = resources[service_id]["Properties"]
        assert service["DesiredCount"] == 1
        assert service["DeploymentConfiguration"]["MaximumPercent"] == 100
        env = {
            e["Name"]: e["Value"]
            for e in resources[task_id]["Properties"]["ContainerDefinitions"][0]["Environment"]
            if isinstance(e, dict) and "Name" in e
        }
        assert env["EVENT_RELAY_GROUP"] == str(group)
        assert env["EVENT_RELAY_GROUPS"] == {"Ref": "RelayGroups"}
        expected = None if group == 0 else ecs.relay_condition(group)
        for resource_id in (task_id, service_id, alarm_id):
            assert resources[resource_id].get("Condition") == expected
    # Group 3 runs only when RelayGroups is 4; group 1 whenever it is 2 or more.
    conditions = ecs_template["Conditions"]
    assert conditions[ecs.relay_condition(3)] == {"Fn::Equals": [{"Ref": "RelayGroups"}, "4"]}
    assert len(conditions[ecs.relay_condition(1)]["Fn::Or"]) == 3


def test_the_web_tasks_always_count_the_api_limits_in_one_shared_store(rendered):
    """Per-task counters would multiply every limit by the number of web tasks (and gunicorn
    processes). Without CacheUrlSecretArn the stack makes an ElastiCache Serverless Valkey that
    only the web tasks reach, and hands them its URL; with it, they read that secret."""
    template = yaml.safe_load(rendered[ECS_TEMPLATE])
    resources, conditions = template["Resources"], template["Conditions"]
    web = resources["WebTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    no_value = {"Ref": "AWS::NoValue"}
    own_secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cache-url-AbCdEf"
    for secret in ("", own_secret):
        parameters = {"CacheUrlSecretArn": secret}
        environment = evaluate(web["Environment"], parameters, conditions)
        secrets = evaluate(web["Secrets"], parameters, conditions)
        named = [e for e in environment + secrets if e != no_value and e["Name"] == "CACHE_URL"]
        from_env = [e["Value"] for e in named if "Value" in e]
        from_secret = [e["ValueFrom"] for e in named if "ValueFrom" in e]
        creates = holds(conditions["CreateCache"], parameters, conditions)
        if secret:
            assert (creates, from_env, from_secret) == (False, [], [own_secret])
        else:
            assert creates and not from_secret
            assert from_env == [
                "rediss://${RateLimitCache.Endpoint.Address}:${RateLimitCache.Endpoint.Port}/0"
            ]

    cache = resources["RateLimitCache"]
    assert cache["Type"] == "AWS::ElastiCache::ServerlessCache"
    assert cache["Condition"] == "CreateCache"
    assert cache["Properties"]["Engine"] == "valkey"
    assert cache["Properties"]["SubnetIds"] == {"Ref": "PrivateSubnetIds"}
    assert cache["Properties"]["SecurityGroupIds"] == [{"Ref": "CacheSecurityGroup"}]
    # Reached from the web tasks only, on the endpoint's and the reader endpoint's ports.
    ingress = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
        and r["Properties"]["GroupId"] == {"Ref": "CacheSecurityGroup"}
    ]
    assert ingress == [
        {
            "Description": ingress[0]["Description"],
            "GroupId": {"Ref": "CacheSecurityGroup"},
            "IpProtocol": "tcp",
            "FromPort": 6379,
            "ToPort": 6380,
            "SourceSecurityGroupId": {"Ref": "WebTaskSecurityGroup"},
        }
    ]
    group = resources["CacheSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [rule["CidrIp"] for rule in group["SecurityGroupEgress"]] == ["127.0.0.1/32"]
    # The background tasks (workers, relay, dispatcher) have no use for it.
    for name, resource in resources.items():
        if resource["Type"] == "AWS::ECS::TaskDefinition" and name != "WebTaskDefinition":
            assert "CACHE_URL" not in repr(resource), name


# -- (b) day one: bootstrap as a one-off task -------------------------------------------------

ECS_DOCS = [ROOT / "docs" / "deploy.md", ROOT / "deploy" / "aws" / "README.md"]
NO_VALUE = {"Ref": "AWS::NoValue"}


def day_one(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The day-one task definition's properties and its one container."""
    task = template["Resources"][ecs.DAY_ONE_TASK]["Properties"]
    (container,) = task["ContainerDefinitions"]
    return task, container


def test_day_one_runs_bootstrap_like_a_web_task_with_a_read_only_root(rendered):
    """The services have no ECS Exec and a read-only root filesystem, so day one is a task
    of its own: the services' image and settings, the web tasks' role, a writable /tmp."""
    _, template = templates(rendered)
    resources = template["Resources"]
    task, container = day_one(template)
    assert container["Name"] == ecs.DAY_ONE_CONTAINER
    assert container["Command"] == ecs.DAY_ONE_COMMAND == ["manage", "bootstrap"]
    assert shell_docs.role_problems(container["Command"]) == []
    assert container["Image"] == {"Ref": "ImageUri"}
    assert container["User"] == "10001:10001"
    assert container["ReadonlyRootFilesystem"] is True
    assert container["MountPoints"] == [
        {"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False}
    ]
    assert task["Volumes"] == [{"Name": "tmp"}]
    assert "HealthCheck" not in container  # it ends; nothing to keep alive
    assert task["TaskRoleArn"] == resources["WebTaskDefinition"]["Properties"]["TaskRoleArn"]
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["WebTaskRole", "Arn"]}

    web = resources["WebTaskDefinition"]["Properties"]["ContainerDefinitions"][0]

    def names(entries: list[Any]) -> set[str]:
        return {e["Name"] if "Name" in e else e["Fn::If"][1]["Name"] for e in entries}

    web_only = {"WEB_CONCURRENCY", "TRUSTED_PROXY_COUNT", "TRUST_X_FORWARDED_PROTO"}
    web_only |= {"SECURE_COOKIES", "SECURE_HSTS_SECONDS", "CACHE_URL"}
    assert names(container["Environment"]) == names(web["Environment"]) - web_only
    assert names(container["Secrets"]) == names(web["Secrets"]) - {"CACHE_URL"} | {
        "DJANGO_SUPERUSER_PASSWORD"
    }
    assert not names(container["Environment"]) & {"DJANGO_SUPERUSER_PASSWORD", "DATABASE_URL"}
    # No service can be exec'd into, which is why this task exists.
    for name, resource in resources.items():
        if resource["Type"] == "AWS::ECS::Service":
            assert resource["Properties"]["EnableExecuteCommand"] is False, name
    # The migration still needs the database only: no role, not even the web's.
    migrate = resources["MigrateTaskDefinition"]["Properties"]
    assert migrate["TaskRoleArn"] == NO_VALUE
    assert migrate["ContainerDefinitions"][0]["Command"] == ["migrate"]


def test_day_ones_role_may_make_every_aws_call_bootstraps_checks_make(rendered, monkeypatch):
    """Record the calls bootstrap's readiness check really makes, then find each in the web
    policy (the day-one task's role) on the resource it names."""
    from operations import bootstrap
    from orders.domain.workflow import STATUSES
    from portal import health
    from portal.container import resources as app_resources

    calls: list[tuple[str, str, dict[str, Any]]] = []

    class Recorder:
        def __init__(self, service: str) -> None:
            self.service = service

        def __getattr__(self, method: str) -> Any:
            def call(**kwargs: Any) -> dict[str, str]:
                calls.append((self.service, method, kwargs))
                return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}

            return call

    monkeypatch.setattr(health, "probe_client", Recorder)
    monkeypatch.setitem(health.WEB_CHECKS, "database", lambda: None)
    lines: list[str] = []
    assert bootstrap.check_ready(lines.append) is True, lines

    data_template, ecs_template = templates(rendered)
    role = ecs_template["Resources"]["WebTaskRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [ecs.imported("WebPolicyArn")]
    statements = data_template["Resources"]["WebPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    by_status = {app_resources().queue_name(s): s for s in STATUSES}
    queue_ids = {q.status: data.queue_id(q) for q in status_queues()}
    asked = set()
    for service, method, kwargs in calls:
        if service == "sts":  # GetCallerIdentity needs no permission
            continue
        action = f"{service}:{''.join(part.title() for part in method.split('_'))}"
        if service == "sqs":
            resource: Any = {"Fn::GetAtt": [queue_ids[by_status[kwargs["QueueName"]]], "Arn"]}
        elif service == "dynamodb":
            resource = data.TABLE_ARN
        else:
            resource = {"Ref": data.TOPIC}
        allowed = [
            s for s in statements if action in s.get("Action", []) and resource in s["Resource"]
        ]
        assert allowed, (action, resource)
        asked.add(action)
    assert asked == {"dynamodb:DescribeTable", "sns:GetTopicAttributes", "sqs:GetQueueUrl"}
    assert sum(1 for service, *_ in calls if service == "sqs") == len(STATUSES)


@pytest.mark.parametrize("own", ["", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:su-Ab"])
def test_the_superuser_password_comes_from_secrets_manager(rendered, own):
    """Generated by the stack unless SuperuserPasswordSecretArn names one; readable by the
    task execution role, which injects it; named by an output for the operator."""
    _, template = templates(rendered)
    resources, conditions = template["Resources"], template["Conditions"]
    parameters = {"SuperuserPasswordSecretArn": own}
    _, container = day_one(template)
    (password,) = [s for s in container["Secrets"] if s.get("Name") == "DJANGO_SUPERUSER_PASSWORD"]
    expected = own or {"Ref": "SuperuserPasswordSecret"}
    assert evaluate(password["ValueFrom"], parameters, conditions) == expected
    generated = resources["SuperuserPasswordSecret"]
    assert generated["Condition"] == "CreateSuperuserPassword"
    assert holds(conditions["CreateSuperuserPassword"], parameters, conditions) is not bool(own)
    assert generated["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    execution = resources["TaskExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    (reads,) = [s for s in execution["Statement"] if s.get("Sid") == "Secrets"]
    assert expected in evaluate(reads["Resource"], parameters, conditions)
    outputs = template["Outputs"]
    assert evaluate(outputs["SuperuserPasswordArn"]["Value"], parameters, conditions) == expected
    assert outputs["DayOneTaskDefinitionArn"]["Value"] == {"Ref": ecs.DAY_ONE_TASK}


def run_tasks(path: Path) -> list[list[str]]:
    """The `aws ecs run-task` commands of a document, as the shell splits them."""
    found = []
    for command in shell_docs.commands(path):
        words = shell_docs.split(command)
        if "run-task" in words:
            found.append(words)
    return found


def flag(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


@pytest.mark.parametrize("path", ECS_DOCS, ids=lambda p: p.name)
def test_the_docs_day_one_run_task_works_as_pasted(rendered, path):
    """Every `$(out X)` names an output the stack has; the overrides name the day-one
    container, run a real command and set only the user name and e-mail (the password comes
    from Secrets Manager, never the command line); the log line reads the task's stream."""
    _, template = templates(rendered)
    text = path.read_text()
    used = set(re.findall(r"\$\(out (\w+)\)", text))
    assert used and used <= set(template["Outputs"]), used - set(template["Outputs"])

    (day_one_run,) = [w for w in run_tasks(path) if "$(out DayOneTaskDefinitionArn)" in w]
    assert flag(day_one_run, "--launch-type") == "FARGATE"
    assert "assignPublicIp=DISABLED" in flag(day_one_run, "--network-configuration")
    overrides = json.loads(flag(day_one_run, "--overrides"))
    (override,) = overrides["containerOverrides"]
    _, container = day_one(template)
    assert override["name"] == container["Name"]
    assert override["command"][:2] == container["Command"]
    assert shell_docs.role_problems(override["command"]) == []
    assert {e["name"] for e in override["environment"]} == {
        "DJANGO_SUPERUSER_USERNAME",
        "DJANGO_SUPERUSER_EMAIL",
    }
    assert "PASSWORD" not in " ".join(day_one_run)

    prefix = container["LogConfiguration"]["Options"]["awslogs-stream-prefix"]
    stream = f"{prefix}/{container['Name']}/${{TASK##*/}}"
    assert f'--log-stream-names "{stream}"' in text
    assert '--secret-id "$(out SuperuserPasswordArn)"' in text


def test_the_checker_notices_a_day_one_that_could_not_run(rendered):
    _, template = templates(rendered)
    assert check.day_one_problems(template) == []
    task, container = day_one(template)
    task["TaskRoleArn"] = NO_VALUE
    container["Environment"].append({"Name": "DJANGO_SUPERUSER_PASSWORD", "Value": "hunter2"})
    problems = check.day_one_problems(template)
    assert any("no task role" in p for p in problems)
    assert any("only from a secret" in p for p in problems)
    del template["Resources"][ecs.DAY_ONE_TASK]
    assert check.day_one_problems(template) == [
        f"no {ecs.DAY_ONE_TASK}: day one cannot run on ECS (docs/deploy.md)"
    ]


# -- (c) the maintenance scheduler ------------------------------------------------------------


def test_the_scheduler_is_a_service_of_scheduler_count_tasks_that_rolls(rendered):
    """Several schedulers are safe (plans locked per pass, deterministic order ids): it rolls
    like the webhook dispatcher, new task first; SchedulerCount tasks, one by default."""
    _, template = templates(rendered)
    resources = template["Resources"]
    service = resources[ecs.SCHEDULER_SERVICE]["Properties"]
    assert service["DesiredCount"] == {"Ref": "SchedulerCount"}
    assert template["Parameters"]["SchedulerCount"]["Default"] == 1
    assert template["Parameters"]["SchedulerCount"]["MinValue"] == 0
    assert service["DeploymentConfiguration"]["MaximumPercent"] == 200
    assert service["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
        {"Ref": "BackgroundTaskSecurityGroup"}
    ]
    task = resources[ecs.SCHEDULER_TASK]["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert container["Command"] == ["scheduler"]
    assert shell_docs.role_problems(container["Command"]) == []
    assert container["HealthCheck"]["Command"][-1].endswith(
        "urlopen('http://127.0.0.1:9100/metrics', timeout=3)"
    )
    assert container["ReadonlyRootFilesystem"] is True
    assert container["StopTimeout"] == 30
    assert task["TaskRoleArn"] == {"Fn::GetAtt": [ecs.SCHEDULER_ROLE, "Arn"]}
    assert "SchedulerServiceName" in template["Outputs"]


def test_the_schedulers_role_has_the_data_stacks_scheduler_policy_and_nothing_else(rendered):
    """Like every other task role: the data stack's managed policy, imported, no inline
    policy, and so no parameter for the data stack's key to remember."""
    data_template, template = templates(rendered)
    role = template["Resources"][ecs.SCHEDULER_ROLE]["Properties"]
    assert role["ManagedPolicyArns"] == [ecs.imported("SchedulerPolicyArn")]
    assert "Policies" not in role
    assert data_template["Outputs"]["SchedulerPolicyArn"]["Value"] == {"Ref": "SchedulerPolicy"}
    assert "DataKmsKeyArn" not in template["Parameters"]  # the data stack's policy has its key
    assert check.scheduler_problems(data_template, template) == []


def test_an_alarm_fires_when_no_scheduler_runs_unless_none_is_wanted(rendered):
    _, template = templates(rendered)
    alarm = template["Resources"][ecs.SCHEDULER_ALARM]
    properties = alarm["Properties"]
    dimensions = {d["Name"]: d["Value"] for d in properties["Dimensions"]}
    assert dimensions["ServiceName"] == {"Fn::GetAtt": [ecs.SCHEDULER_SERVICE, "Name"]}
    assert (properties["MetricName"], properties["ComparisonOperator"]) == (
        "RunningTaskCount",
        "LessThanThreshold",
    )
    assert properties["TreatMissingData"] == "breaching"
    conditions = template["Conditions"]
    assert holds(conditions[alarm["Condition"]], {"SchedulerCount": "1"}, conditions)
    assert not holds(conditions[alarm["Condition"]], {"SchedulerCount": "0"}, conditions)


def test_the_checker_notices_a_scheduler_that_could_not_create_orders(rendered):
    data_template, template = templates(rendered)
    template["Resources"][ecs.SCHEDULER_ROLE]["Properties"]["ManagedPolicyArns"] = [
        ecs.imported("WebhooksPolicyArn")
    ]
    template["Resources"][ecs.SCHEDULER_TASK]["Properties"]["ContainerDefinitions"][0][
        "Command"
    ] = ["webhooks"]
    policy = data_template["Resources"][data.SCHEDULER_POLICY]["Properties"]
    for statement in policy["PolicyDocument"]["Statement"]:
        if "Action" in statement:
            statement["Action"] = [a for a in statement["Action"] if a != "dynamodb:PutItem"]
    del data_template["Outputs"]["SchedulerPolicyArn"]
    problems = check.scheduler_problems(data_template, template)
    assert f"{ecs.SCHEDULER_ROLE} does not use SchedulerPolicy" in problems
    assert "SchedulerPolicy may not put orders in the table" in problems
    assert "data template does not export SchedulerPolicyArn" in problems
    assert any("does not run ['scheduler']" in p for p in problems)
    del template["Resources"][ecs.SCHEDULER_SERVICE]
    assert f"missing AWS::ECS::Service {ecs.SCHEDULER_SERVICE}" in check.scheduler_problems(
        data_template, template
    )


class Recorder:
    """A boto3 client that records each call and answers as if it had succeeded."""

    def __init__(self, service: str, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.service, self.calls = service, calls

    def __getattr__(self, method: str) -> Any:
        def call(**kwargs: Any) -> dict[str, str]:
            self.calls.append((self.service, method, kwargs))
            return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}

        return call


@pytest.fixture
def recorded_calls(monkeypatch):
    """Every AWS call the application makes while the test runs, on recording clients."""
    from portal import container, health

    calls: list[tuple[str, str, dict[str, Any]]] = []
    container.reset()
    monkeypatch.setattr(container, "client", lambda service: Recorder(service, calls))
    monkeypatch.setattr(health, "probe_client", lambda service: Recorder(service, calls))
    monkeypatch.setitem(health.WEB_CHECKS, "database", lambda: None)
    yield calls
    container.reset()


def test_the_schedulers_role_may_make_every_call_its_readiness_and_an_order_make(
    rendered, recorded_calls
):
    """Record what the scheduler's process really calls — its readiness checks and the
    orders' own intake creating an occurrence's order (which is all the scheduler does on
    AWS) — then find each call in its role's policy (the data stack's SchedulerPolicy), on
    the table, side table, index or topic it names."""
    from django.conf import settings

    from aws.resources import side_table_name
    from orders.domain.model import Actor
    from orders.domain.rules import OrderInput
    from portal import health
    from portal.container import order_services

    assert health.run_checks(health.WEB_CHECKS)[0] is True
    order_services().intake.create_order(
        data=OrderInput(title="Service the boiler", category="hvac", site="Depot"),
        integrator="acme",
        actor=Actor.system("scheduler"),
        order_id="plan-occurrence-order",
    )

    data_template, template = templates(rendered)
    role = template["Resources"][ecs.SCHEDULER_ROLE]["Properties"]
    assert role["ManagedPolicyArns"] == [ecs.imported(f"{data.SCHEDULER_POLICY}Arn")]
    document = data_template["Resources"][data.SCHEDULER_POLICY]["Properties"]["PolicyDocument"]
    statements = [s for s in document["Statement"] if "Effect" in s]  # not the key's Fn::If
    tables = {
        settings.ORDERS_TABLE_NAME: data.TABLE_ARN,
        side_table_name(settings.ORDERS_TABLE_NAME): data.SIDE_TABLE_ARN,
    }
    asked = set()
    for service, method, kwargs in recorded_calls:
        if service == "sts":  # GetCallerIdentity needs no permission
            continue
        action = f"{service}:{''.join(part.title() for part in method.split('_'))}"
        if service == "sns":
            names = [{"Ref": data.TOPIC}]
        elif "IndexName" in kwargs:
            names = [data.TABLE_INDEXES_ARN]
        else:
            names = [tables[name] for name in kwargs.get("RequestItems") or [kwargs["TableName"]]]
        for resource in names:
            allowed = [s for s in statements if action in s["Action"] and resource in s["Resource"]]
            assert allowed, (action, resource)
        asked.add(action)
    assert {"dynamodb:PutItem", "dynamodb:BatchWriteItem"} <= asked  # the order, its entries
    assert {a.split(":")[0] for a in asked} <= {"dynamodb", "sns"}  # no SQS, no S3

"""The maintenance scheduler in the Helm chart: a Deployment of its own that rolls like the
webhook dispatcher (several are safe), runs the image's ``scheduler`` role under its own
service account, is scraped and probed like the other background roles, and is watched by
alerts an operator can act on; the checker refuses a chart without it.

Renders with the real ``helm`` and validates with the real validators (``make deploy-tools``).
"""

from __future__ import annotations

import pytest
import yaml
from django.core.management import get_commands

from deploy import helm_check as hc
from deploy import tools
from deploy.workflow import status_queues
from portal import role
from tests.deploy import shell_docs
from tests.deploy.helm_support import DEFAULT_VALUES, FULLNAME, render

pytestmark = pytest.mark.usefixtures("validators")

SCHEDULER = f"{FULLNAME}-scheduler"
ALERTS = {
    "WorkOrderPortalSchedulerSilent",
    "WorkOrderPortalSchedulerDown",
    "WorkOrderPortalPlansOverdue",
    "WorkOrderPortalPlanOccurrencesFailing",
}


def scheduler(manifests: list[hc.Manifest]) -> hc.Manifest:
    return hc.by_kind(manifests, "Deployment")[SCHEDULER]


def container_env(deployment: hc.Manifest) -> dict[str, dict]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


def alerts(manifests: list[hc.Manifest]) -> dict[str, dict]:
    (rules,) = [obj for obj in manifests if obj.get("kind") == "PrometheusRule"]
    return {rule["alert"]: rule for group in rules["spec"]["groups"] for rule in group["rules"]}


# --- (a) the Deployment ---------------------------------------------------------------------------


def test_one_scheduler_runs_the_scheduler_role_with_its_settings(default):
    deployment = scheduler(default)
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["scheduler"]
    assert shell_docs.role_problems(container["args"]) == []  # a role the image has …
    assert role.command(container["args"])[3:] == ["run_scheduler"]
    assert "run_scheduler" in get_commands()  # … running a management command that exists
    assert spec["replicas"] == DEFAULT_VALUES["scheduler"]["replicas"] == 1
    assert "strategy" not in spec  # rolled (the default), not Recreate: two at once are safe
    assert pod["serviceAccountName"] == SCHEDULER
    assert pod["terminationGracePeriodSeconds"] == 30
    env = container_env(deployment)
    assert env["SCHEDULER_INTERVAL_SECONDS"]["value"] == "30"
    assert env["SCHEDULER_GRACE_SECONDS"]["value"] == "300"
    # The database (plans, their locks) and the orders' settings, like every other role.
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "DATABASE_URL"
    assert container["envFrom"] == [{"configMapRef": {"name": FULLNAME}}]
    assert hc.scheduler_problems(default) == []


def test_several_schedulers_with_their_own_settings_and_role(production):
    """ci-values.yaml: two replicas (each pass locks its plans), a longer interval, an IRSA
    role of its own."""
    deployment = scheduler(production)
    assert deployment["spec"]["replicas"] == 2
    assert "strategy" not in deployment["spec"]
    assert container_env(deployment)["SCHEDULER_INTERVAL_SECONDS"]["value"] == "60"
    account = hc.by_kind(production, "ServiceAccount")[SCHEDULER]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        "arn:aws:iam::123456789012:role/workorders-prod-scheduler"
    )


def test_the_scheduler_is_scraped_and_reachable_only_on_its_metrics_port(production):
    pod_labels = scheduler(production)["spec"]["template"]["metadata"]["labels"]
    (container,) = scheduler(production)["spec"]["template"]["spec"]["containers"]
    assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in container["ports"]
    service = hc.by_kind(production, "Service")[f"{FULLNAME}-metrics"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    policies = [
        policy["spec"]
        for policy in hc.by_kind(production, "NetworkPolicy").values()
        if policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    ]
    # Ingress: the metrics port only (from the monitoring namespace here); egress is open for
    # the database and the AWS endpoints.
    assert [rule["ports"] for policy in policies for rule in policy["ingress"]] == [
        [{"port": "metrics", "protocol": "TCP"}]
    ]
    assert all(policy["policyTypes"] == ["Ingress"] for policy in policies)


def test_without_the_scheduler_the_checker_refuses_the_chart(default):
    others = [obj for obj in default if obj.get("metadata", {}).get("name") != SCHEDULER]
    with pytest.raises(tools.ValidationFailed, match="0 maintenance scheduler Deployments"):
        hc.check_workflow(others, status_queues())

    wrong = yaml.safe_load(yaml.safe_dump(scheduler(default)))
    wrong["spec"]["template"]["spec"]["containers"][0]["args"] = ["webhooks"]
    wrong["spec"]["template"]["spec"]["serviceAccountName"] = f"{FULLNAME}-web"
    problems = hc.scheduler_problems([*others, wrong])
    assert any("args [['webhooks']]" in p for p in problems)
    assert any("not its own account" in p for p in problems)
    assert hc.scheduler_problems([*default, wrong]) == [
        "2 maintenance scheduler Deployments, expected 1"
    ]


# --- (b) alerts -------------------------------------------------------------------------------


def test_alerts_fire_when_the_scheduler_is_silent_absent_behind_or_failing(production):
    found = alerts(production)
    assert set(found) >= ALERTS
    namespace = f'namespace="{hc.NAMESPACE}"'
    silent = found["WorkOrderPortalSchedulerSilent"]
    assert silent["expr"] == (
        f"time() - max(portal_scheduler_last_run_timestamp_seconds{{{namespace}}}) > 300"
    )
    assert silent["labels"]["severity"] == "critical"
    down = found["WorkOrderPortalSchedulerDown"]
    assert down["expr"] == f"absent(portal_scheduler_last_run_timestamp_seconds{{{namespace}}})"
    overdue = found["WorkOrderPortalPlansOverdue"]
    assert overdue["expr"] == f"max(portal_plans_overdue{{{namespace}}}) > 0"
    assert overdue["for"] == "10m"
    failing = found["WorkOrderPortalPlanOccurrencesFailing"]
    assert failing["expr"] == (
        f'sum(increase(portal_plan_occurrences_total{{{namespace},result="failed"}}[15m])) > 0'
    )
    assert "300 s ago" in overdue["annotations"]["summary"]  # the grace the pods are given


def test_the_silence_threshold_is_a_value():
    found = alerts(
        render(
            "metrics.prometheusRule.enabled=true",
            "metrics.prometheusRule.schedulerSilentSeconds=900",
        )
    )
    assert found["WorkOrderPortalSchedulerSilent"]["expr"].endswith("> 900")


def test_no_scheduler_wanted_no_scheduler_alerts():
    """scheduler.replicas 0 is the operator's choice: the Deployment stays (at zero) and the
    alerts that would page for a missing scheduler are left out."""
    manifests = render("scheduler.replicas=0", "metrics.prometheusRule.enabled=true")
    assert scheduler(manifests)["spec"]["replicas"] == 0
    assert hc.scheduler_problems(manifests) == []
    assert not set(alerts(manifests)) & ALERTS
    assert "WorkOrderPortalRelayDown" in alerts(manifests)
    assert hc.validate_kubernetes(manifests) > 0


# --- (c) its AWS identity and its documentation ---------------------------------------------------


def test_the_eks_roles_stack_gives_the_scheduler_the_policy_the_ecs_task_role_has():
    """Both attach the data stack's SchedulerPolicy, and neither writes a policy of its own
    (nor asks for the data stack's key)."""
    stack = yaml.safe_load((tools.ROOT / "deploy/aws/templates/eks-roles.yaml").read_text())
    ecs = yaml.safe_load((tools.ROOT / "deploy/aws/templates/ecs.yaml").read_text())
    scheduler_policy = [{"Fn::ImportValue": {"Fn::Sub": "${DataStackName}-SchedulerPolicyArn"}}]
    role = stack["Resources"]["SchedulerRole"]["Properties"]
    assert role["ManagedPolicyArns"] == scheduler_policy
    assert "Policies" not in role
    task_role = ecs["Resources"]["SchedulerTaskRole"]["Properties"]
    assert task_role["ManagedPolicyArns"] == scheduler_policy
    assert "Policies" not in task_role
    assert "DataKmsKeyArn" not in stack["Parameters"]
    association = stack["Resources"]["SchedulerRoleAssociation"]["Properties"]
    assert association["ServiceAccount"] == {"Fn::Sub": "${ServiceAccountPrefix}-scheduler"}


def test_every_scheduler_value_is_documented():
    readme = (tools.ROOT / "deploy" / "helm" / "README.md").read_text()
    for key in DEFAULT_VALUES["scheduler"]:
        assert f"`scheduler.{key}`" in readme, key
    assert "serviceAccounts.<role>.roleArn" in readme and "`scheduler`" in readme
    assert "schedulerSilentSeconds" in readme

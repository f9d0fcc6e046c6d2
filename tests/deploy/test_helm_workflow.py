"""The Helm chart follows the workflow table: one worker Deployment and one ScaledObject per
status, a status added in one place, per-status settings that reach only their status, and the
chart's generated workflow file up to date.

Renders with the real ``helm`` and validates with the real validators (``make deploy-tools``).
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
import yaml

from deploy import helm_check as hc
from deploy import tools
from deploy.helm_values import WORKFLOW_FILE, render_files
from deploy.workflow import StatusQueue, status_queues
from tests.deploy.helm_support import DEFAULT_VALUES, FULLNAME, only, render

pytestmark = pytest.mark.usefixtures("validators")


def queue_urls(scaled_object: hc.Manifest) -> list[str]:
    """The SQS queues a ScaledObject scales its worker on."""
    return [t["metadata"]["queueURL"] for t in scaled_object["spec"]["triggers"]]


def test_the_chart_refuses_the_placeholder_account():
    with pytest.raises(tools.ValidationFailed, match="aws.accountId is the placeholder"):
        hc.render()


# --- (a) one worker Deployment and one ScaledObject per status ---------------------------------


def test_every_status_has_a_worker_scaled_on_its_own_queue(default):
    queues = status_queues()
    deployments, scalers = hc.worker_deployments(default), hc.scaled_objects(default)
    assert set(deployments) == set(scalers) == {q.status for q in queues}
    for queue in queues:
        worker = only(deployments, queue.status)
        assert worker["metadata"]["name"] == f"{FULLNAME}-worker-{queue.slug}"
        (container,) = worker["spec"]["template"]["spec"]["containers"]
        assert container["args"] == ["worker", queue.status]
        scaler = only(scalers, queue.status)
        assert scaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": worker["metadata"]["name"],
        }
        assert queue_urls(scaler) == [
            f"https://sqs.us-east-1.amazonaws.com/111122223333/workorders-{queue.slug}"
        ]
        trigger = scaler["spec"]["triggers"][0]
        assert trigger["type"] == "aws-sqs-queue"
        assert trigger["metadata"]["scaleOnInFlight"] == "true"
        assert trigger["metadata"]["awsRegion"] == "us-east-1"
        assert trigger["authenticationRef"]["name"] == f"{FULLNAME}-keda-aws"
    assert hc.check_workflow(default, queues) == len(queues)


def test_keda_authenticates_as_the_workload(default, production):
    (auth,) = hc.by_kind(default, "TriggerAuthentication").values()
    assert auth["spec"]["podIdentity"] == {"provider": "aws", "identityOwner": "workload"}
    (auth,) = hc.by_kind(
        render("keda.roleArn=arn:aws:iam::123456789012:role/keda"), "TriggerAuthentication"
    ).values()
    assert auth["spec"]["podIdentity"] == {
        "provider": "aws",
        "roleArn": "arn:aws:iam::123456789012:role/keda",
    }


def test_fifo_queues_get_fifo_urls_and_setting():
    manifests = render("aws.fifo=true", "aws.region=eu-west-1", "aws.resourcePrefix=orders-eu")
    for queue in status_queues():
        scaler = only(hc.scaled_objects(manifests), queue.status)
        assert queue_urls(scaler) == [
            f"https://sqs.eu-west-1.amazonaws.com/111122223333/orders-eu-{queue.slug}.fifo"
        ]
    assert hc.config_value(manifests, "ORDERS_FIFO") == "true"
    assert hc.config_value(manifests, "ORDERS_RESOURCE_PREFIX") == "orders-eu"


def test_production_values_render_and_validate(production):
    """ci-values.yaml: ingress, FIFO, ServiceMonitor, provisioning, per-status overrides."""
    kinds = {obj["kind"] for obj in production}
    assert {"Ingress", "ServiceMonitor", "Secret", "HorizontalPodAutoscaler"} <= kinds
    assert hc.check_render(production, status_queues())[0] > 0
    (scaler,) = hc.scaled_objects(production)["received"]
    assert queue_urls(scaler) == [
        "https://sqs.eu-west-1.amazonaws.com/123456789012/workorders-prod-received.fifo"
    ]


# --- (b) adding a status is one change to the workflow table -----------------------------------


def test_a_new_status_gets_a_worker_and_a_scaler_with_no_other_edit(tmp_path):
    extended = [*status_queues(), StatusQueue("inspected", "Checked by an inspector.", False)]
    chart = tmp_path / "work-order-portal"
    shutil.copytree(hc.CHART, chart)
    for relative, content in render_files(extended).items():
        (chart / Path(relative).relative_to(hc.CHART.relative_to(tools.ROOT))).write_text(content)

    comparison = filecmp.dircmp(hc.CHART, chart)
    assert comparison.diff_files == ["workflow.yaml"]
    assert not comparison.left_only and not comparison.right_only
    assert all(not sub.diff_files for sub in comparison.subdirs.values())

    hc.lint(chart=chart)
    manifests = render(chart=chart)
    worker = only(hc.worker_deployments(manifests), "inspected")
    assert worker["metadata"]["name"] == f"{FULLNAME}-worker-inspected"
    assert worker["spec"]["template"]["spec"]["containers"][0]["args"] == ["worker", "inspected"]
    scaler = only(hc.scaled_objects(manifests), "inspected")
    assert scaler["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    assert queue_urls(scaler)[0].endswith("/workorders-inspected")
    assert f"{FULLNAME}-worker-inspected" in hc.by_kind(manifests, "PodDisruptionBudget")
    assert hc.check_workflow(manifests, extended) == len(extended)
    assert hc.validate_kubernetes(manifests) > 0
    assert hc.validate_keda(manifests) == len(extended) + 1  # + the TriggerAuthentication


@pytest.mark.parametrize(
    "toggle",
    [
        "keda.enabled=false",
        "web.autoscaling.enabled=false",
        "networkPolicy.enabled=false",
        "metrics.podAnnotations=false",
        "web.preStopSleepSeconds=0",
        "migrate.enabled=false",
        "workers.defaults.podDisruptionBudget.enabled=false",
        "serviceAccounts.worker.perStatus=true",
        "dayOne.enabled=true",
    ],
)
def test_every_switch_renders_valid_objects(toggle):
    manifests = render(toggle)
    hc.check_unknown(manifests)
    hc.check_workflow(manifests, status_queues(), keda=toggle != "keda.enabled=false")
    assert hc.validate_kubernetes(manifests) > 0
    hc.validate_keda(manifests)


def test_without_keda_each_worker_runs_its_minimum():
    manifests = render("keda.enabled=false", "workers.overrides.received.minReplicas=3")
    assert not hc.scaled_objects(manifests)
    assert not hc.by_kind(manifests, "TriggerAuthentication")
    replicas = {
        s: only(hc.worker_deployments(manifests), s)["spec"]["replicas"]
        for s in ["received", "accepted"]
    }
    assert replicas == {
        "received": 3,
        "accepted": DEFAULT_VALUES["workers"]["defaults"]["minReplicas"],
    }


# --- (c) per-status settings --------------------------------------------------------------------


def test_an_override_reaches_only_its_status(default):
    manifests = render(
        "workers.overrides.accepted.minReplicas=0",
        "workers.overrides.accepted.maxReplicas=50",
        "workers.overrides.accepted.concurrency=16",
    )
    defaults = DEFAULT_VALUES["workers"]["defaults"]
    for status, scalers in hc.scaled_objects(manifests).items():
        spec = scalers[0]["spec"]
        before = only(hc.scaled_objects(default), status)["spec"]
        if status == "accepted":
            assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 50)
        else:
            assert spec == before
            assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
                defaults["minReplicas"],
                defaults["maxReplicas"],
            )
    env = {
        status: {
            e["name"]: e.get("value")
            for e in only(hc.worker_deployments(manifests), status)["spec"]["template"]["spec"][
                "containers"
            ][0]["env"]
        }["WORKER_CONCURRENCY"]
        for status in hc.worker_deployments(manifests)
    }
    assert env.pop("accepted") == "16"
    assert set(env.values()) == {str(defaults["concurrency"])}


def test_a_nested_override_keeps_the_other_defaults():
    manifests = render("workers.overrides.received.resources.limits.memory=1Gi")
    container = only(hc.worker_deployments(manifests), "received")["spec"]["template"]["spec"][
        "containers"
    ][0]
    expected = DEFAULT_VALUES["workers"]["defaults"]["resources"]
    assert container["resources"]["limits"] == {**expected["limits"], "memory": "1Gi"}
    assert container["resources"]["requests"] == expected["requests"]


def test_a_disabled_status_renders_no_worker():
    manifests = render("workers.overrides.cancelled.enabled=false")
    assert "cancelled" not in hc.worker_deployments(manifests)
    assert "cancelled" not in hc.scaled_objects(manifests)
    assert f"{FULLNAME}-worker-cancelled" not in hc.by_kind(manifests, "PodDisruptionBudget")
    others = [q for q in status_queues() if q.status != "cancelled"]
    assert hc.check_workflow(manifests, status_queues(), disabled={"cancelled"}) == len(others)


def test_a_misspelt_override_is_rejected_by_the_schema():
    with pytest.raises(tools.ValidationFailed, match="minReplica"):
        render("workers.overrides.received.minReplica=0")


def test_the_checker_notices_a_missing_scaler(default):
    broken = [
        obj
        for obj in default
        if not (
            obj["kind"] == "ScaledObject"
            and obj["metadata"]["labels"].get(hc.STATUS) == "scheduled"
        )
    ]
    with pytest.raises(tools.ValidationFailed, match="scheduled"):
        hc.check_workflow(broken, status_queues())


# --- (d) the generated file is up to date -------------------------------------------------------


def test_workflow_yaml_matches_the_workflow_table():
    ((relative, content),) = render_files(status_queues()).items()
    assert relative == WORKFLOW_FILE
    assert (tools.ROOT / relative).read_text() == content, "run `make render-deploy`"
    entries = yaml.safe_load(content)["statuses"]
    assert [(e["status"], e["slug"], e["terminal"]) for e in entries] == [
        (q.status, q.slug, q.terminal) for q in status_queues()
    ]

"""The Helm chart as an operator meets it: one scaled worker per status of the workflow table,
settings that reach the objects they name, hardened pods, and a status added in one place.

Renders with the real ``helm`` and validates with the real validators (``make deploy-tools``).
"""

from __future__ import annotations

import filecmp
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from deploy import helm_check as hc
from deploy import tools
from deploy.helm_values import WORKFLOW_FILE, render_files
from deploy.workflow import StatusQueue, status_queues
from tests.deploy import shell_docs

FULLNAME = f"{hc.RELEASE}-work-order-portal"
DEFAULT_VALUES = yaml.safe_load((hc.CHART / "values.yaml").read_text())


@pytest.fixture(scope="module", autouse=True)
def validators() -> None:
    needed = [tools.HELM, tools.KUBERNETES_VALIDATE, tools.KEDA_VALIDATE]
    absent = [str(tool) for tool in needed if not tool.exists()]
    if not (tools.KEDA_VALIDATE.parent / "node_modules").exists():
        absent.append(str(tools.KEDA_VALIDATE.parent / "node_modules"))
    if absent or not shutil.which("node"):
        pytest.fail(f"validators missing ({', '.join(absent) or 'node'}): run `make deploy-tools`")


def render(*set_values: str, chart: Path = hc.CHART, ci: bool = False) -> list[hc.Manifest]:
    """The chart with ``set_values`` on the defaults (with an account: the placeholder one is
    refused) or on the CI values."""
    values = [hc.CI_VALUES] if ci else []
    account = [] if ci else [hc.EXAMPLE_ACCOUNT]
    return hc.objects(
        hc.render(chart=chart, values=values, set_values=set_values, set_strings=account)
    )


def test_the_chart_refuses_the_placeholder_account():
    with pytest.raises(tools.ValidationFailed, match="aws.accountId is the placeholder"):
        hc.render()


@pytest.fixture(scope="module")
def default() -> list[hc.Manifest]:
    return render()


@pytest.fixture(scope="module")
def production() -> list[hc.Manifest]:
    return render(ci=True)


def only(found: dict[str, list[hc.Manifest]], status: str) -> hc.Manifest:
    assert len(found.get(status, [])) == 1, f"expected exactly one object for {status}"
    return found[status][0]


def queue_urls(scaled_object: hc.Manifest) -> list[str]:
    return [t["metadata"]["queueURL"] for t in scaled_object["spec"]["triggers"]]


def pod_specs(manifests: list[hc.Manifest]) -> dict[str, dict]:
    return {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["spec"]["template"]["spec"]
        for obj in manifests
        if obj["kind"] in ("Deployment", "Job")
    }


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


# --- (d) hardened pods, probes, graceful stops --------------------------------------------------


@pytest.mark.parametrize("values", ["default", "production"])
def test_every_pod_is_hardened(values, request):
    manifests = request.getfixturevalue(values)
    specs = pod_specs(manifests)
    assert len(specs) >= len(status_queues()) + 4  # workers, web, relay, webhooks, migrate
    for name, spec in specs.items():
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}} in spec["volumes"], name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsUser"] == 10001, name
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            assert container["resources"]["limits"] and container["resources"]["requests"]


@pytest.mark.parametrize("values", ["default", "production"])
def test_probes_and_grace_periods_follow_the_image_contract(values, request):
    deployments = hc.by_kind(request.getfixturevalue(values), "Deployment")
    for name, deployment in deployments.items():
        spec = deployment["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        role = deployment["metadata"]["labels"][hc.COMPONENT]
        assert container["livenessProbe"] and container["readinessProbe"], name
        if role == "cache":  # the chart's Valkey, not the portal's image
            for probe in ("livenessProbe", "readinessProbe"):
                assert container[probe]["exec"]["command"] == ["valkey-cli", "ping"]
            continue
        if role == "web":
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
            assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container["ports"]
            # The preStop pause, then gunicorn's 25 s graceful timeout, within the grace period.
            pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
            assert spec["terminationGracePeriodSeconds"] > pause + 25
            continue
        assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
        ready = ["python", "-m", "portal.role", "ready"]
        if role == "worker":
            ready.append(deployment["metadata"]["labels"][hc.STATUS])
            assert spec["terminationGracePeriodSeconds"] == 90
        assert container["readinessProbe"]["exec"]["command"] == ready, name
        assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in container["ports"]


def test_exactly_one_relay_replaced_not_rolled(default):
    (relay,) = [
        d
        for d in hc.by_kind(default, "Deployment").values()
        if d["metadata"]["labels"][hc.COMPONENT] == "relay"
    ]
    assert relay["spec"]["replicas"] == 1
    assert relay["spec"]["strategy"] == {"type": "Recreate"}


def test_relay_groups_get_one_relay_each_with_its_group_and_selector(production):
    relays = [
        d
        for d in hc.by_kind(production, "Deployment").values()
        if d["metadata"]["labels"][hc.COMPONENT] == "relay"
    ]
    assert hc.relay_problems(relays) == []
    assert len(relays) == 3  # relay.groups in ci-values.yaml
    selectors = [tuple(sorted(r["spec"]["selector"]["matchLabels"].items())) for r in relays]
    assert len(set(selectors)) == 3  # no Deployment adopts another group's pod
    env = {
        e["name"]: e.get("value")
        for e in relays[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["EVENT_RELAY_GROUPS"] == "3"


def test_the_relay_checker_notices_a_missing_or_doubled_group(production):
    relays = [
        d
        for d in hc.by_kind(production, "Deployment").values()
        if d["metadata"]["labels"][hc.COMPONENT] == "relay"
    ]
    assert hc.relay_problems(relays[:2])  # group 2 of 3 missing
    assert hc.relay_problems([*relays, relays[0]])  # group 0 twice


def test_workers_and_web_are_left_to_their_autoscalers(default):
    for name, deployment in hc.by_kind(default, "Deployment").items():
        role = deployment["metadata"]["labels"][hc.COMPONENT]
        assert ("replicas" in deployment["spec"]) == (role in ("relay", "webhooks", "cache")), name
    (hpa,) = hc.by_kind(default, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{FULLNAME}-web"


def test_a_config_change_rolls_the_pods(default):
    changed = render("config.logLevel=DEBUG")

    def checksums(manifests):
        return {
            name: d["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/config")
            for name, d in hc.by_kind(manifests, "Deployment").items()
        }

    before, after = checksums(default), checksums(changed)
    assert before.keys() == after.keys()
    # The chart's Valkey is not the portal's configuration: restarting it would only forget
    # the counts.
    assert before.pop(f"{FULLNAME}-cache") is after.pop(f"{FULLNAME}-cache") is None
    assert all(before[name] != after[name] for name in before)


def test_migrations_run_as_a_hook_before_install_and_upgrade(default, production):
    for manifests in (default, production):
        job = hc.by_kind(manifests, "Job")[f"{FULLNAME}-migrate"]
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        assert job["spec"]["backoffLimit"] == DEFAULT_VALUES["migrate"]["backoffLimit"]
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert f"{FULLNAME}-provision" not in hc.by_kind(default, "Job")
    assert (
        hc.by_kind(production, "Job")[f"{FULLNAME}-provision"]["spec"]["template"]["spec"][
            "serviceAccountName"
        ]
        == f"{FULLNAME}-provision"
    )


def test_secrets_come_from_an_existing_secret_unless_the_chart_makes_one(default, production):
    assert not hc.by_kind(default, "Secret")
    web = hc.by_kind(default, "Deployment")[f"{FULLNAME}-web"]["spec"]["template"]["spec"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in web["containers"][0]["env"]
        if "valueFrom" in e
    }
    # CACHE_URL is the chart's Valkey, in the ConfigMap (see the cache tests below).
    assert refs == dict.fromkeys(["DATABASE_URL", "SECRET_KEY"], "work-order-portal")
    # Chart-made: the release's Secret plus a hook-only copy the migration job can read.
    assert set(hc.by_kind(production, "Secret")) == {FULLNAME, f"{FULLNAME}-hooks"}


def test_with_irsa_each_role_trusts_only_its_service_account_and_the_chart_gets_every_role():
    """Trust=IRSA: every role's trust names one service account through the cluster's OIDC
    provider, and the stack's HelmRoleValues, passed to helm, annotate every service account
    the chart makes with a role of the stack."""
    stack = yaml.safe_load((tools.ROOT / "deploy/aws/templates/eks-roles.yaml").read_text())
    params = {name: p.get("Default", "") for name, p in stack["Parameters"].items()}
    params.update(
        {
            "OidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1"
            ".amazonaws.com/id/ABC123",
            "OidcIssuer": "oidc.eks.eu-west-1.amazonaws.com/id/ABC123",
            "AWS::StackName": "orders-eks-roles",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
        }
    )
    assert re.fullmatch(stack["Parameters"]["OidcIssuer"]["AllowedPattern"], params["OidcIssuer"])

    def substituted(text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: params[m.group(1)], text)

    roles, subjects = set(), {}
    for resource in stack["Resources"].values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource["Properties"]
        condition, irsa, _ = properties["AssumeRolePolicyDocument"]["Fn::If"]
        (statement,) = json.loads(substituted(irsa["Fn::Sub"]))["Statement"]
        assert statement["Principal"] == {"Federated": params["OidcProviderArn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        condition = statement["Condition"]["StringEquals"]
        assert condition[f"{params['OidcIssuer']}:aud"] == "sts.amazonaws.com"
        name = substituted(properties["RoleName"]["Fn::If"][1]["Fn::Sub"])
        roles.add(name)
        subjects[name] = condition[f"{params['OidcIssuer']}:sub"]
    assert (
        subjects.pop("orders-eks-roles-keda-operator") == "system:serviceaccount:keda:keda-operator"
    )

    values = substituted(stack["Outputs"]["HelmRoleValues"]["Value"]["Fn::Sub"]).split(",")
    accounts = hc.by_kind(render(*values), "ServiceAccount")
    assert len(accounts) == len(subjects)
    for name, account in accounts.items():
        role_name = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].split("/")[-1]
        assert role_name in roles  # a role of the stack …
        namespace = params["Namespace"]
        assert subjects[role_name] == f"system:serviceaccount:{namespace}:{name}"  # … for it


def test_one_service_account_per_role_with_its_irsa_role(production):
    accounts = hc.by_kind(production, "ServiceAccount")
    for role in ("web", "worker", "relay", "webhooks", "provision"):
        annotations = accounts[f"{FULLNAME}-{role}"]["metadata"]["annotations"]
        assert annotations["eks.amazonaws.com/role-arn"].endswith(f"role/workorders-prod-{role}")
    for deployment in hc.by_kind(production, "Deployment").values():
        role = deployment["metadata"]["labels"][hc.COMPONENT]
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == f"{FULLNAME}-{role}"


# --- (e) the generated file is up to date -------------------------------------------------------


def test_workflow_yaml_matches_the_workflow_table():
    ((relative, content),) = render_files(status_queues()).items()
    assert relative == WORKFLOW_FILE
    assert (tools.ROOT / relative).read_text() == content, "run `make render-deploy`"
    entries = yaml.safe_load(content)["statuses"]
    assert [(e["status"], e["slug"], e["terminal"]) for e in entries] == [
        (q.status, q.slug, q.terminal) for q in status_queues()
    ]


def test_per_status_worker_accounts_for_per_status_roles():
    manifests = render(
        "serviceAccounts.worker.perStatus=true",
        "serviceAccounts.worker.roleArn=arn:aws:iam::123456789012:role/orders-worker-{slug}",
    )
    accounts = hc.by_kind(manifests, "ServiceAccount")
    assert f"{FULLNAME}-worker" not in accounts
    for queue in status_queues():
        name = f"{FULLNAME}-worker-{queue.slug}"
        assert accounts[name]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
            f"arn:aws:iam::123456789012:role/orders-worker-{queue.slug}"
        )
        worker = only(hc.worker_deployments(manifests), queue.status)
        assert worker["spec"]["template"]["spec"]["serviceAccountName"] == name


def test_the_alb_checks_the_same_path_as_the_ecs_stack(production):
    """One health-check path for load balancers, whichever way the portal is deployed: the
    process serves (/healthz); dependencies are the readiness probe's concern (/readyz)."""

    (ingress,) = hc.by_kind(production, "Ingress").values()
    ecs = (tools.ROOT / "deploy" / "aws" / "templates" / "ecs.yaml").read_text()
    (ecs_path,) = re.findall(r"HealthCheckPath: (\S+)", ecs)

    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == ecs_path == "/healthz"


def test_the_readmes_production_values_check_the_same_path():
    """The production values the chart's README shows, as an operator pastes them: their
    load balancer checks /healthz too (it said /readyz: a dependency blip would have taken
    every pod out of the load balancer)."""
    readme = (tools.ROOT / "deploy" / "helm" / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    (values,) = [yaml.safe_load(b) for b in blocks if "className: alb" in b]
    annotations = values["ingress"]["annotations"]
    assert annotations.get("alb.ingress.kubernetes.io/healthcheck-path", "/healthz") == "/healthz"


def test_alerts_and_the_dashboard_read_only_metrics_the_roles_export(production):
    """A rule or a panel on a metric nobody exports would never fire or draw."""
    from prometheus_client import Counter, Gauge, Histogram

    from portal import metrics

    exported = set()
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            exported.add(value._name + "_total")
        elif isinstance(value, Histogram):
            exported |= {value._name + suffix for suffix in ("_bucket", "_sum", "_count")}
        elif isinstance(value, Gauge):
            exported.add(value._name)
    (rules,) = [obj for obj in production if obj.get("kind") == "PrometheusRule"]
    (dashboard,) = [
        obj
        for obj in production
        if obj.get("kind") == "ConfigMap" and "work-order-portal.json" in obj.get("data", {})
    ]
    alerts = [rule for group in rules["spec"]["groups"] for rule in group["rules"]]
    panels = json.loads(dashboard["data"]["work-order-portal.json"])["panels"]
    expressions = [a["expr"] for a in alerts] + [t["expr"] for p in panels for t in p["targets"]]

    used = {name for expr in expressions for name in re.findall(r"\bportal_[a-z_]+", expr)}

    assert used and used <= exported, used - exported
    assert {a["labels"]["severity"] for a in alerts} <= {"warning", "critical"}
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["namespace"] == "monitoring"


def test_the_eks_roles_stack_binds_a_role_to_every_service_account_the_chart_makes():
    """deploy/aws/templates/eks-roles.yaml (EKS Pod Identity) names exactly the chart's
    accounts, per status worker included, each with the data stack's policy for its part."""
    stack = yaml.safe_load((tools.ROOT / "deploy/aws/templates/eks-roles.yaml").read_text())
    prefix = stack["Parameters"]["ServiceAccountPrefix"]["Default"]
    assert prefix == FULLNAME
    bound = {}
    for resource in stack["Resources"].values():
        if resource["Type"] == "AWS::EKS::PodIdentityAssociation":
            account = resource["Properties"]["ServiceAccount"]
            if "Fn::Sub" in account:  # the prefix and a role (KEDA's is its own account)
                bound[account["Fn::Sub"].replace("${ServiceAccountPrefix}", prefix)] = resource
    manifests = render("serviceAccounts.worker.perStatus=true")
    chart_accounts = set(hc.by_kind(manifests, "ServiceAccount"))

    assert chart_accounts == set(bound)
    for resource in stack["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            condition, _, pod_identity = resource["Properties"]["AssumeRolePolicyDocument"][
                "Fn::If"
            ]
            assert condition == "UseIrsa"
            assert pod_identity["Statement"][0]["Principal"] == {
                "Service": "pods.eks.amazonaws.com"
            }
        if resource["Type"] == "AWS::EKS::PodIdentityAssociation":
            assert resource["Condition"] == "UsePodIdentity"  # none with IRSA


# --- (e) the API limits' shared store ----------------------------------------------------------

CACHE = f"{FULLNAME}-cache"
ELASTICACHE = "rediss://portal-limits-1a2b3c4d.serverless.euw1.cache.amazonaws.com:6379/0"


def web_env(manifests: list[hc.Manifest]) -> list[dict]:
    web = hc.by_kind(manifests, "Deployment")[f"{FULLNAME}-web"]
    return web["spec"]["template"]["spec"]["containers"][0]["env"]


def test_by_default_every_web_pod_counts_the_limits_in_the_charts_own_valkey(default):
    """Per-pod counters would multiply each API limit by the number of pods (and processes)."""
    assert hc.config_value(default, "CACHE_URL") == f"redis://{CACHE}:6379/0"
    assert "CACHE_URL" not in {e["name"] for e in web_env(default)}  # the ConfigMap's wins
    cache = hc.by_kind(default, "Deployment")[CACHE]
    assert cache["spec"]["replicas"] == 1
    assert cache["spec"]["strategy"] == {"type": "Recreate"}  # never two stores at once
    (container,) = cache["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "docker.io/valkey/valkey:8.1-alpine"
    assert container["command"][0] == "valkey-server"
    assert container["command"][container["command"].index("--save") + 1] == ""
    service = hc.by_kind(default, "Service")[CACHE]
    assert service["spec"]["selector"] == cache["spec"]["selector"]["matchLabels"]
    assert [p["port"] for p in service["spec"]["ports"]] == [6379]
    # Only the web pods reach it.
    policy = hc.by_kind(default, "NetworkPolicy")[CACHE]["spec"]
    assert policy["podSelector"]["matchLabels"] == cache["spec"]["selector"]["matchLabels"]
    web = hc.by_kind(default, "Deployment")[f"{FULLNAME}-web"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": web["spec"]["selector"]["matchLabels"]}}
    ]
    assert rule["ports"] == [{"port": "redis", "protocol": "TCP"}]


def test_without_a_shared_store_the_chart_refuses_to_render():
    with pytest.raises(tools.ValidationFailed, match="need one store that every web pod shares"):
        render("cache.redis.enabled=false")


def test_an_external_store_replaces_the_charts_own():
    by_url = render(f"cache.url={ELASTICACHE}")
    assert hc.config_value(by_url, "CACHE_URL") == ELASTICACHE
    assert CACHE not in hc.by_kind(by_url, "Deployment")
    assert CACHE not in hc.by_kind(by_url, "Service")
    assert hc.validate_kubernetes(by_url) > 0

    from_secret = render("cache.fromSecret=true")
    assert hc.config_value(from_secret, "CACHE_URL") is None
    assert CACHE not in hc.by_kind(from_secret, "Deployment")
    (cache_url,) = [e for e in web_env(from_secret) if e["name"] == "CACHE_URL"]
    # Required: a pod whose Secret lacks it does not start with per-pod counters.
    assert cache_url["valueFrom"]["secretKeyRef"] == {
        "name": "work-order-portal",
        "key": "CACHE_URL",
    }
    assert hc.validate_kubernetes(from_secret) > 0


def test_the_chart_made_secret_with_a_cache_url_is_used(production):
    """ci-values.yaml: the chart makes the Secret, with secrets.cacheUrl."""
    assert CACHE not in hc.by_kind(production, "Deployment")
    (cache_url,) = [e for e in web_env(production) if e["name"] == "CACHE_URL"]
    assert cache_url["valueFrom"]["secretKeyRef"] == {"name": FULLNAME, "key": "CACHE_URL"}
    assert hc.by_kind(production, "Secret")[FULLNAME]["stringData"]["CACHE_URL"]


def test_a_cache_url_with_credentials_belongs_in_the_secret():
    with pytest.raises(tools.ValidationFailed, match="cache.url holds credentials"):
        render("cache.url=rediss://default:s3cret@cache.internal:6379/0")


# --- (f) day one: bootstrap where the portal runs ---------------------------------------------

DAY_ONE = f"{FULLNAME}-day-one"
DOCS = [tools.ROOT / "docs" / "deploy.md", tools.ROOT / "deploy" / "helm" / "README.md"]


def day_one_pod(manifests: list[hc.Manifest]) -> tuple[dict, dict]:
    """The day-one Job's pod spec and its one container."""
    spec = hc.by_kind(manifests, "Job")[DAY_ONE]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return spec, container


def test_day_one_is_opt_in(default):
    assert DAY_ONE not in hc.by_kind(default, "Job")


def test_day_one_is_a_web_pod_that_runs_bootstrap_after_install_and_upgrade(production):
    """ci-values.yaml: dayOne with a superuser Secret and teams. Same account (IAM role: its
    checks read what the web reads), settings, Secret and hardening as the web pods; after the
    release's objects exist, so after the migration hook."""
    job = hc.by_kind(production, "Job")[DAY_ONE]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    migrate = hc.by_kind(production, "Job")[f"{FULLNAME}-migrate"]["metadata"]["annotations"]
    assert migrate["helm.sh/hook"] == "pre-install,pre-upgrade"
    # Kept after it succeeds, for its log; replaced by the next run.
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation"
    assert job["metadata"]["labels"][hc.COMPONENT] == "day-one"  # no Service selects it
    assert job["spec"]["backoffLimit"] == DEFAULT_VALUES["dayOne"]["backoffLimit"]

    spec, container = day_one_pod(production)
    web = hc.by_kind(production, "Deployment")[f"{FULLNAME}-web"]["spec"]["template"]["spec"]
    (web_container,) = web["containers"]
    assert spec["restartPolicy"] == "Never"
    assert spec["serviceAccountName"] == web["serviceAccountName"] == f"{FULLNAME}-web"
    for key in ("automountServiceAccountToken", "securityContext", "volumes"):
        assert spec[key] == web[key], key
    for key in ("image", "securityContext", "volumeMounts", "envFrom"):
        assert container[key] == web_container[key], key
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]

    assert container["args"] == ["manage", "bootstrap", "--teams"]
    assert shell_docs.role_problems(container["args"]) == []
    env = {e["name"]: e for e in container["env"]}
    assert all("value" not in e for e in env.values())  # nothing secret inline
    assert {e["name"] for e in web_container["env"]} <= set(env)  # DATABASE_URL, SECRET_KEY, ...
    superuser = {
        name: e["valueFrom"]["secretKeyRef"]
        for name, e in env.items()
        if name.startswith("DJANGO_SUPERUSER_")
    }
    secret = ci_values()["dayOne"]["superuserSecret"]
    assert superuser == {
        "DJANGO_SUPERUSER_USERNAME": {"name": secret, "key": "DJANGO_SUPERUSER_USERNAME"},
        "DJANGO_SUPERUSER_PASSWORD": {"name": secret, "key": "DJANGO_SUPERUSER_PASSWORD"},
        "DJANGO_SUPERUSER_EMAIL": {
            "name": secret,
            "key": "DJANGO_SUPERUSER_EMAIL",
            "optional": True,
        },
    }


def ci_values() -> dict:
    return yaml.safe_load(hc.CI_VALUES.read_text())


def test_day_one_without_a_superuser_secret_adds_groups_and_checks_only():
    manifests = render("dayOne.enabled=true")
    _, container = day_one_pod(manifests)
    assert container["args"] == ["manage", "bootstrap"]
    assert not [e for e in container["env"] if e["name"].startswith("DJANGO_SUPERUSER_")]
    assert hc.validate_kubernetes(manifests) > 0


def test_the_docs_kubectl_lines_run_a_program_not_an_assignment():
    """`kubectl exec … -- NAME=value python …` runs no shell: kubectl would try to execute a
    program called `NAME=value`. Every kubectl exec line the docs show runs python (directly
    or through env) with a role and a management command that exist."""
    execs = [
        words
        for path in DOCS
        for command in shell_docs.commands(path)
        if (words := shell_docs.split(command))[:1] == ["kubectl"] and "exec" in words
    ]
    assert len(execs) >= 4  # day one and integrators in docs/deploy.md, and the chart's README
    for words in execs:
        program = shell_docs.exec_program(words)
        assert program[:3] == ["python", "-m", "portal.role"], words
        assert shell_docs.role_problems(program) == [], words
        target = words[words.index("exec") + 1 :]
        assert f"deploy/{FULLNAME}-web" in target, words  # the Deployment the chart makes


def test_the_docs_day_one_commands_fit_the_chart():
    """As pasted: the Secret the kubectl line creates is the one the helm line names, holds
    every key the Job requires, and the logs line names the Job the chart makes."""
    for path in DOCS:
        words = [shell_docs.split(c) for c in shell_docs.commands(path)]
        (create,) = [
            w[w.index("kubectl") :]
            for w in words
            if "kubectl" in w
            and w[w.index("kubectl") :][3:5] == ["create", "secret"]
            and "--from-literal=DJANGO_SUPERUSER_USERNAME=ops" in w
        ]
        keys = {
            flag.split("=", 2)[1]
            for flag in create
            if flag.startswith(("--from-literal=", "--from-file="))
        }
        assert "--from-literal=DJANGO_SUPERUSER_PASSWORD" not in " ".join(create)  # piped in
        assert create[create.index("generic") + 1] == "work-order-portal-superuser"
        (helm,) = [
            w
            for w in words
            if w[:3] == ["helm", "upgrade", "--install"] and any(v.startswith("dayOne.") for v in w)
        ]
        sets = [helm[i + 1] for i, word in enumerate(helm) if word == "--set"]
        assert "dayOne.enabled=true" in sets
        _, container = day_one_pod(render(*sets))
        refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]
        superuser = [r for r in refs if r["key"].startswith("DJANGO_SUPERUSER_")]
        assert {r["name"] for r in superuser} == {create[create.index("generic") + 1]}
        assert {r["key"] for r in superuser if not r.get("optional")} <= keys
        logs = [w for w in words if w[:1] == ["kubectl"] and "logs" in w]
        assert [w[-1] for w in logs] == [f"job/{DAY_ONE}"]

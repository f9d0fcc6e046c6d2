"""Every pod the Helm chart makes: hardened, probed, stopped gracefully, scaled by its
autoscaler or kept single, rolled on a config change, and run under its own identity (IRSA or
EKS Pod Identity, per role and optionally per status).

Renders with the real ``helm`` and validates with the real validators (``make deploy-tools``).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from deploy import helm_check as hc
from deploy import tools
from deploy.workflow import status_queues
from tests.deploy.helm_support import DEFAULT_VALUES, FULLNAME, only, render

pytestmark = pytest.mark.usefixtures("validators")


def pod_specs(manifests: list[hc.Manifest]) -> dict[str, dict]:
    """Every Deployment's and Job's pod spec, by ``Kind/name``."""
    return {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["spec"]["template"]["spec"]
        for obj in manifests
        if obj["kind"] in ("Deployment", "Job")
    }


# --- (a) hardened pods, probes, graceful stops --------------------------------------------------


@pytest.mark.parametrize("values", ["default", "production"])
def test_every_pod_is_hardened(values, request):
    manifests = request.getfixturevalue(values)
    specs = pod_specs(manifests)
    # workers, web, relay, webhooks, scheduler, migrate
    assert len(specs) >= len(status_queues()) + 5
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
        kept = ("relay", "webhooks", "scheduler", "cache")
        assert ("replicas" in deployment["spec"]) == (role in kept), name
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


# --- (b) one identity per role, and per status when asked -----------------------------------------


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
    for role in ("web", "worker", "relay", "webhooks", "scheduler", "provision"):
        annotations = accounts[f"{FULLNAME}-{role}"]["metadata"]["annotations"]
        assert annotations["eks.amazonaws.com/role-arn"].endswith(f"role/workorders-prod-{role}")
    for deployment in hc.by_kind(production, "Deployment").values():
        role = deployment["metadata"]["labels"][hc.COMPONENT]
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == f"{FULLNAME}-{role}"


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

"""What an operator relies on around the Helm chart's pods: the load balancer checks the same
health path as the ECS stack, alerts and the dashboard read metrics that exist, the API limits
are counted in one shared store, and day one (``bootstrap``) runs where the portal runs, as the
docs tell an operator to start it.

Renders with the real ``helm`` and validates with the real validators (``make deploy-tools``).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from deploy import helm_check as hc
from deploy import tools
from tests.deploy import shell_docs
from tests.deploy.helm_support import DEFAULT_VALUES, FULLNAME, render

pytestmark = pytest.mark.usefixtures("validators")


# --- (a) the load balancer's health path, alerts and the dashboard --------------------------------


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

    from kernel import metrics

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


# --- (b) the API limits' shared store ----------------------------------------------------------

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


# --- (c) day one: bootstrap where the portal runs ---------------------------------------------

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

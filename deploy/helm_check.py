"""Validate the Helm chart offline: lint, render, schema-check every object, checkov.

``validate()`` lints the chart (``helm lint --strict``), renders it with the default values and
with ``deploy/helm/ci-values.yaml`` (every option on), and checks each render:

- Kubernetes objects against the API's schemas (``kubernetes-validate --strict``),
- KEDA objects against KEDA's CRD schemas (``deploy/tools/keda-validate``),
- the Prometheus Operator ServiceMonitor by its apiVersion, kind and selector,
- the workflow: one worker Deployment and one ScaledObject per status, each ScaledObject
  scaling its own Deployment on its own status's queue; exactly one event relay per group;
  the maintenance scheduler's Deployment (without it plans create no orders, silently),
- checkov's Kubernetes policies, with the skips in ``deploy/helm/.checkov.yaml``.

The helpers are reused by the Helm tests (``tests/deploy/test_helm_*.py``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from deploy import tools
from deploy.workflow import StatusQueue, status_queues

CHART = tools.ROOT / "deploy" / "helm" / "work-order-portal"
CI_VALUES = tools.ROOT / "deploy" / "helm" / "ci-values.yaml"
#: The defaults with an account set (the placeholder one is refused).
EXAMPLE_ACCOUNT = "aws.accountId=111122223333"
CHECKOV_CONFIG = tools.ROOT / "deploy" / "helm" / ".checkov.yaml"
RELEASE = "wop"
NAMESPACE = "work-orders"
#: The Kubernetes version objects are validated against (kubernetes-validate ships its schemas).
KUBERNETES_VERSION = "1.33.0"

KEDA_API = "keda.sh/v1alpha1"
#: Objects of custom resources the chart may render, and who validates them.
CUSTOM_KINDS = {
    (KEDA_API, "ScaledObject"): "keda",
    (KEDA_API, "TriggerAuthentication"): "keda",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "prometheus-operator",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheus-rules",
}
COMPONENT = "app.kubernetes.io/component"
STATUS = "work-order-portal/status"

Manifest = dict[str, Any]


# --- Rendering ---------------------------------------------------------------------------------


def lint(chart: Path = CHART, values: Sequence[Path] = ()) -> None:
    tools.run([tools.HELM, "lint", "--strict", chart, *_values_args(values)])


def render(
    chart: Path = CHART,
    values: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    release: str = RELEASE,
    set_strings: Sequence[str] = (),
) -> str:
    """``helm template``'s output (multi-document YAML)."""
    command: list[str | Path] = [
        tools.HELM,
        "template",
        release,
        chart,
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBERNETES_VERSION,
        *_values_args(values),
    ]
    for assignment in set_values:
        command += ["--set", assignment]
    for assignment in set_strings:  # kept strings, e.g. an account id of digits
        command += ["--set-string", assignment]
    return tools.run(command)


def objects(rendered: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def _values_args(values: Sequence[Path]) -> list[str | Path]:
    return [part for path in values for part in ("--values", path)]


def _name(obj: Manifest) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def custom(obj: Manifest) -> str | None:
    """Who validates an object of a custom resource; None for the Kubernetes API's own."""
    return CUSTOM_KINDS.get((obj.get("apiVersion"), obj.get("kind")))


def is_builtin(obj: Manifest) -> bool:
    api = str(obj.get("apiVersion", ""))
    group = api.split("/")[0] if "/" in api else ""
    # Core ("v1") and the built-in groups (apps, batch, policy, autoscaling, *.k8s.io).
    return custom(obj) is None and (
        group in ("", "apps", "batch", "policy", "autoscaling") or group.endswith(".k8s.io")
    )


# --- Validators --------------------------------------------------------------------------------


def validate_kubernetes(manifests: Iterable[Manifest]) -> int:
    """kubernetes-validate --strict every built-in object; returns how many."""
    builtin = [obj for obj in manifests if is_builtin(obj)]
    with tempfile.TemporaryDirectory(prefix="helm-k8s-") as tmp:
        path = Path(tmp) / "objects.yaml"
        path.write_text(yaml.safe_dump_all(builtin, sort_keys=False))
        output = tools.run(
            [
                tools.KUBERNETES_VALIDATE,
                "--strict",
                "--kubernetes-version",
                KUBERNETES_VERSION,
                "--quiet",
                path,
            ]
        )
    # A kind it has no schema for is only a warning there; an error here.
    if "Couldn't find schema" in output or "ERROR" in output:
        raise tools.ValidationFailed(f"kubernetes-validate:\n{output}")
    return len(builtin)


def validate_keda(manifests: Iterable[Manifest]) -> int:
    """KEDA's CRD schemas for every keda.sh object; returns how many."""
    keda = [obj for obj in manifests if custom(obj) == "keda"]
    if keda:
        tools.run(["node", tools.KEDA_VALIDATE], input=json.dumps(keda))
    return len(keda)


def check_service_monitors(manifests: Sequence[Manifest]) -> int:
    """No schema offline for the Prometheus Operator: check what would break scraping."""
    monitors = [obj for obj in manifests if custom(obj) == "prometheus-operator"]
    services = [obj for obj in manifests if obj.get("kind") == "Service"]
    for monitor in monitors:
        selector = monitor.get("spec", {}).get("selector", {}).get("matchLabels", {})
        matched = [
            svc
            for svc in services
            if selector.items() <= svc["metadata"].get("labels", {}).items()
            and any(port.get("name") == "metrics" for port in svc["spec"].get("ports", []))
        ]
        endpoints = monitor.get("spec", {}).get("endpoints", [])
        if not matched or not endpoints or endpoints[0].get("port") != "metrics":
            raise tools.ValidationFailed(
                f"{_name(monitor)} selects no Service with a metrics port, or scrapes no 'metrics'"
            )
    return len(monitors)


def check_prometheus_rules(manifests: Iterable[Manifest]) -> int:
    """Every alert has an expression, a severity Alertmanager can route on and a summary;
    returns how many. (tests/deploy/test_helm_operations.py checks the metrics they read exist.)"""
    problems, count = [], 0
    for rule_set in (obj for obj in manifests if custom(obj) == "prometheus-rules"):
        for group in rule_set.get("spec", {}).get("groups", []):
            for rule in group.get("rules", []):
                count += 1
                name = rule.get("alert", "?")
                if not rule.get("alert") or not str(rule.get("expr", "")).strip():
                    problems.append(f"{name}: an alert needs a name and an expression")
                if rule.get("labels", {}).get("severity") not in ("warning", "critical"):
                    problems.append(f"{name}: severity must be warning or critical")
                if not rule.get("annotations", {}).get("summary"):
                    problems.append(f"{name}: no summary")
    if problems:
        raise tools.ValidationFailed("\n".join(problems))
    return count


def check_unknown(manifests: Iterable[Manifest]) -> None:
    unknown = [_name(obj) for obj in manifests if not is_builtin(obj) and custom(obj) is None]
    if unknown:
        raise tools.ValidationFailed(f"objects nothing validates: {', '.join(unknown)}")


# --- The workflow in the render ------------------------------------------------------------------


def worker_deployments(manifests: Iterable[Manifest]) -> dict[str, list[Manifest]]:
    """Worker Deployments by status label."""
    found: dict[str, list[Manifest]] = {}
    for obj in manifests:
        labels = obj.get("metadata", {}).get("labels", {})
        if obj.get("kind") == "Deployment" and labels.get(COMPONENT) == "worker":
            found.setdefault(labels.get(STATUS, ""), []).append(obj)
    return found


def scaled_objects(manifests: Iterable[Manifest]) -> dict[str, list[Manifest]]:
    found: dict[str, list[Manifest]] = {}
    for obj in manifests:
        if obj.get("kind") == "ScaledObject":
            status = obj.get("metadata", {}).get("labels", {}).get(STATUS, "")
            found.setdefault(status, []).append(obj)
    return found


def by_kind(manifests: Iterable[Manifest], kind: str) -> dict[str, Manifest]:
    return {obj["metadata"]["name"]: obj for obj in manifests if obj.get("kind") == kind}


def config_value(manifests: Iterable[Manifest], key: str) -> str | None:
    """A setting from the settings ConfigMap (the one with the key; a dashboard's has none)."""
    found = [
        cm["data"][key]
        for cm in by_kind(manifests, "ConfigMap").values()
        if key in cm.get("data", {})
    ]
    return found[0] if len(found) == 1 else None


def check_workflow(
    manifests: Sequence[Manifest],
    queues: Sequence[StatusQueue],
    disabled: Iterable[str] = (),
    keda: bool = True,
) -> int:
    """One worker Deployment (+ ScaledObject) per enabled status, wired to its own queue."""
    problems: list[str] = []
    disabled = set(disabled)
    prefix = config_value(manifests, "ORDERS_RESOURCE_PREFIX")
    fifo = config_value(manifests, "ORDERS_FIFO") == "true"
    deployments = worker_deployments(manifests)
    scalers = scaled_objects(manifests)
    expected = {queue.status for queue in queues} - disabled
    if set(deployments) != expected:
        problems.append(
            f"worker Deployments for {sorted(deployments)}, expected {sorted(expected)}"
        )
    if keda and set(scalers) != expected:
        problems.append(f"ScaledObjects for {sorted(scalers)}, expected {sorted(expected)}")
    for queue in queues:
        if queue.status in disabled:
            continue
        workers = deployments.get(queue.status, [])
        if len(workers) != 1:
            problems.append(f"{queue.status}: {len(workers)} worker Deployments")
            continue
        worker = workers[0]
        args = [c.get("args") for c in worker["spec"]["template"]["spec"]["containers"]]
        if args != [["worker", queue.status]]:
            problems.append(f"{queue.status}: worker args {args}")
        if not keda:
            continue
        scaler = scalers.get(queue.status, [])
        if len(scaler) != 1:
            problems.append(f"{queue.status}: {len(scaler)} ScaledObjects")
            continue
        spec = scaler[0]["spec"]
        if spec["scaleTargetRef"].get("name") != worker["metadata"]["name"]:
            problems.append(f"{queue.status}: ScaledObject targets {spec['scaleTargetRef']}")
        urls = [t["metadata"].get("queueURL", "") for t in spec.get("triggers", [])]
        queue_name = queue.queue_name(prefix or "", fifo)
        if not prefix or len(urls) != 1 or not urls[0].endswith("/" + queue_name):
            problems.append(f"{queue.status}: queue URLs {urls}, expected one ending {queue_name}")
    relays = [
        obj
        for obj in by_kind(manifests, "Deployment").values()
        if obj["metadata"]["labels"].get(COMPONENT) == "relay"
    ]
    problems += relay_problems(relays)
    problems += scheduler_problems(manifests)
    if problems:
        raise tools.ValidationFailed("workflow in the rendered chart:\n  " + "\n  ".join(problems))
    return len(expected)


def relay_problems(relays: list[dict[str, Any]]) -> list[str]:
    """One Deployment per relay group, each exactly one replica replaced (never rolled), the
    groups 0..N-1 each once: two relays reading the same shards publish everything twice."""
    problems = []
    groups = set()
    for relay in relays:
        spec = relay["spec"]
        if spec.get("replicas") != 1:
            problems.append(f"{relay['metadata']['name']}: replicas must be 1")
        if spec.get("strategy", {}).get("type") != "Recreate":
            problems.append(f"{relay['metadata']['name']}: must use Recreate (never two at once)")
        env = {e["name"]: e.get("value") for e in spec["template"]["spec"]["containers"][0]["env"]}
        groups.add((env.get("EVENT_RELAY_GROUP"), env.get("EVENT_RELAY_GROUPS")))
    expected = {(str(i), str(len(relays))) for i in range(len(relays))}
    if not relays:
        problems.append("no relay Deployment")
    elif groups != expected:
        problems.append(f"relay groups {sorted(groups)}, expected {sorted(expected)}")
    return problems


def scheduler_problems(manifests: Iterable[Manifest]) -> list[str]:
    """Exactly one maintenance scheduler Deployment, running the ``scheduler`` role under its
    own service account: a chart without it renders and installs fine, and no plan ever
    makes an order. (Several replicas are safe; ``scheduler.replicas`` 0 is the operator's
    choice, not a missing scheduler.)"""
    schedulers = [
        obj
        for obj in manifests
        if obj.get("kind") == "Deployment"
        and obj["metadata"].get("labels", {}).get(COMPONENT) == "scheduler"
    ]
    if len(schedulers) != 1:
        return [f"{len(schedulers)} maintenance scheduler Deployments, expected 1"]
    (scheduler,) = schedulers
    name = scheduler["metadata"]["name"]
    pod = scheduler["spec"]["template"]["spec"]
    problems = []
    args = [c.get("args") for c in pod["containers"]]
    if args != [["scheduler"]]:
        problems.append(f"{name}: args {args}, expected [['scheduler']]")
    if not str(pod.get("serviceAccountName", "")).endswith("-scheduler"):
        problems.append(f"{name}: runs as {pod.get('serviceAccountName')}, not its own account")
    return problems


# --- checkov -------------------------------------------------------------------------------------


def checkov(renders: dict[str, str]) -> int:
    """checkov's Kubernetes checks on the renders; returns the number of passed checks."""
    with tempfile.TemporaryDirectory(prefix="helm-checkov-") as tmp:
        manifests, results = Path(tmp) / "manifests", Path(tmp) / "results"
        manifests.mkdir()
        for name, rendered in renders.items():
            (manifests / f"{name}.yaml").write_text(rendered)
        command = [
            tools.CHECKOV,
            "--config-file",
            CHECKOV_CONFIG,
            "--framework",
            "kubernetes",
            "--directory",
            manifests,
            "--compact",
            "--quiet",
            "--skip-download",  # offline: no policy metadata from Prisma Cloud (slow timeouts)
            "--soft-fail",  # failures are read from the report below, with their resources
            "--output",
            "json",
            "--output-file-path",
            results,
        ]
        tools.run(command, cwd=tools.ROOT)
        report = json.loads((results / "results_json.json").read_text())
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for part in reports
        for check in part.get("results", {}).get("failed_checks", [])
    ]
    errors = sum(part.get("summary", {}).get("parsing_errors", 0) for part in reports)
    if failed or errors:
        raise tools.ValidationFailed(
            f"checkov: {len(failed)} failed, {errors} parsing errors"
            + "".join(f"\n  {line}" for line in failed)
        )
    return sum(part.get("summary", {}).get("passed", 0) for part in reports)


# --- Everything ----------------------------------------------------------------------------------


def check_render(
    manifests: Sequence[Manifest], queues: Sequence[StatusQueue]
) -> tuple[int, int, int]:
    """Every check on one render; returns how many built-in, KEDA and ServiceMonitor objects."""
    check_unknown(manifests)
    check_workflow(manifests, queues)
    monitors = check_service_monitors(manifests) + check_prometheus_rules(manifests)
    return validate_kubernetes(manifests), validate_keda(manifests), monitors


def validate() -> str:
    queues = status_queues()
    lint()
    lint(values=[CI_VALUES])
    renders = {"default": render(set_strings=[EXAMPLE_ACCOUNT]), "ci": render(values=[CI_VALUES])}
    builtin = keda = monitors = 0
    for rendered in renders.values():
        counted = check_render(objects(rendered), queues)
        builtin, keda, monitors = builtin + counted[0], keda + counted[1], monitors + counted[2]
    passed = checkov(renders)
    version = KUBERNETES_VERSION.rsplit(".", 1)[0]
    return (
        f"lint ok; {len(renders)} renders; {len(queues)} statuses with a worker and a scaler; "
        f"{builtin} objects valid (k8s {version}); {keda} KEDA objects valid; "
        f"{monitors} ServiceMonitor and alert rules checked; checkov {passed} passed"
    )

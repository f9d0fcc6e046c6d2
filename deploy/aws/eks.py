"""CloudFormation: the IAM roles the Helm chart's service accounts use on EKS.

One role per part of the portal — web, relay, webhook dispatcher, maintenance scheduler, one
worker per status (the chart's ``serviceAccounts.worker.perStatus: true``) and KEDA's operator —
each with the data stack's least-privilege policy for that part, the one the ECS task role
of that part has (KEDA's only reads the queues' depth). Each role trusts either EKS Pod
Identity, bound to its service account by a ``PodIdentityAssociation``
(``Trust=PodIdentity``, the default), or the cluster's OIDC provider for exactly its service
account (``Trust=IRSA``: the roles get names from the stack's, and an output gives the chart's
``roleArn`` values). The ECS stack creates its own task roles; this stack is for Kubernetes.
"""

from __future__ import annotations

import re
from typing import Any

from deploy.aws.cfn import (
    NO_VALUE,
    condition,
    equals,
    exported,
    get_att,
    if_,
    import_value,
    not_,
    output,
    ref,
    sub,
    tags,
)
from deploy.aws.data import names as data
from deploy.workflow import StatusQueue

#: The chart's names: ``<release>-work-order-portal-<role>`` (templates/_helpers.tpl), and the
#: data stack's policy export of each.
SERVICE_ACCOUNT_ROLES = {
    "WebRole": ("web", "WebPolicyArn", "the web role (API and admin)"),
    "RelayRole": ("relay", "RelayPolicyArn", "the event relay"),
    "WebhooksRole": ("webhooks", "WebhooksPolicyArn", "the webhook dispatcher"),
    "SchedulerRole": ("scheduler", "SchedulerPolicyArn", "the maintenance scheduler"),
}
KEDA_ROLE = "KedaOperatorRole"


def worker_role_id(queue: StatusQueue) -> str:
    return f"{queue.logical_id}WorkerRole"


def imported(output_key: str) -> dict[str, Any]:
    return import_value(sub("${DataStackName}-" + output_key))


def parameters() -> dict[str, Any]:
    return {
        "DataStackName": {
            "Type": "String",
            "Description": "The data stack (deploy/aws/templates/data.yaml): its policies.",
        },
        "ClusterName": {"Type": "String", "Description": "The EKS cluster the chart runs in."},
        "Namespace": {
            "Type": "String",
            "Default": "work-orders",
            "Description": "The chart's namespace (helm -n).",
        },
        "ServiceAccountPrefix": {
            "Type": "String",
            "Default": "wop-work-order-portal",
            "Description": "<release>-work-order-portal: the chart's service accounts start so.",
        },
        "KedaNamespace": {"Type": "String", "Default": "keda"},
        "KedaServiceAccount": {"Type": "String", "Default": "keda-operator"},
        "Trust": {
            "Type": "String",
            "Default": "PodIdentity",
            "AllowedValues": ["PodIdentity", "IRSA"],
            "Description": "EKS Pod Identity (associations made here) or IRSA (the cluster's "
            "OIDC provider; pass the HelmRoleValues output to helm).",
        },
        "OidcProviderArn": {
            "Type": "String",
            "Default": "",
            "Description": "IRSA only: the cluster's IAM OIDC provider, "
            "arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>.",
        },
        "OidcIssuer": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": (
                "^$|^oidc\\.eks\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/id/[A-Za-z0-9]+$"
            ),
            "Description": "IRSA only: the issuer without https://, "
            "oidc.eks.<region>.amazonaws.com/id/<id> (aws eks describe-cluster).",
        },
    }


def is_irsa() -> dict[str, Any]:
    return equals(ref("Trust"), "IRSA")


def conditions() -> dict[str, Any]:
    return {
        "UseIrsa": is_irsa(),
        "UsePodIdentity": not_(condition("UseIrsa")),
    }


def rules() -> dict[str, Any]:
    """With IRSA, the provider and issuer are required (checked before anything is made)."""
    return {
        "IrsaNeedsTheClusterProvider": {
            "RuleCondition": is_irsa(),
            "Assertions": [
                {
                    "Assert": not_(equals(ref(name), "")),
                    "AssertDescription": f"Trust=IRSA needs {name}",
                }
                for name in ("OidcProviderArn", "OidcIssuer")
            ],
        }
    }


def pod_identity_trust() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def irsa_trust(namespace: str, service_account: str) -> dict[str, Any]:
    """Web identity from the cluster's OIDC provider, for this one service account only. The
    condition keys name the issuer, so the document is substituted as a whole (JSON text)."""
    document = (
        "{"
        '"Version": "2012-10-17", "Statement": [{"Sid": "Irsa", "Effect": "Allow", '
        '"Principal": {"Federated": "${OidcProviderArn}"}, '
        '"Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {'
        f'"${{OidcIssuer}}:sub": "system:serviceaccount:{namespace}:{service_account}", '
        '"${OidcIssuer}:aud": "sts.amazonaws.com"}}}]'
        "}"
    )
    return sub(document)


def role(
    description: str,
    *,
    namespace: str,
    service_account: str,
    name: str,
    policies: list[Any] | None = None,
    inline: Any = None,
) -> dict:
    """``namespace`` and ``service_account`` are ``Fn::Sub`` text; ``name`` is the role's
    name under IRSA (after the stack's), so the chart's values can be written out."""
    properties: dict[str, Any] = {
        "Description": f"work-order portal on EKS: {description}",
        "RoleName": if_("UseIrsa", sub("${AWS::StackName}-" + name), NO_VALUE),
        "AssumeRolePolicyDocument": if_(
            "UseIrsa", irsa_trust(namespace, service_account), pod_identity_trust()
        ),
        "MaxSessionDuration": 3600,
        "Tags": tags(Application="work-order-portal", Cluster=ref("ClusterName")),
    }
    if policies:
        properties["ManagedPolicyArns"] = policies
    if inline:
        properties["Policies"] = [inline]
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def association(role_id: str, service_account: Any, namespace: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::EKS::PodIdentityAssociation",
        "Condition": "UsePodIdentity",
        "Properties": {
            "ClusterName": ref("ClusterName"),
            "Namespace": namespace,
            "ServiceAccount": service_account,
            "RoleArn": get_att(role_id, "Arn"),
        },
    }


def parameter_or_text(text: str) -> dict[str, Any]:
    """``Ref`` for a lone parameter (``${Namespace}``), else ``Fn::Sub`` of the text."""
    lone = re.fullmatch(r"\$\{(\w+)\}", text)
    return ref(lone.group(1)) if lone else sub(text)


def bound_role(
    role_id: str, description: str, *, namespace: str, service_account: str, name: str, **access
) -> dict[str, Any]:
    """A role and, with Pod Identity, its association, both for one service account
    (``namespace`` and ``service_account`` as ``Fn::Sub`` text)."""
    return {
        role_id: role(
            description, namespace=namespace, service_account=service_account, name=name, **access
        ),
        f"{role_id}Association": association(
            role_id, parameter_or_text(service_account), parameter_or_text(namespace)
        ),
    }


def keda_policy(queues: list[StatusQueue]) -> dict[str, Any]:
    """KEDA scales each worker on its queue's depth: it reads queue attributes, nothing else."""
    return {
        "PolicyName": "read-queue-depth",
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "QueueDepth",
                    "Effect": "Allow",
                    "Action": ["sqs:GetQueueAttributes"],
                    "Resource": [imported(f"{data.queue_id(q)}Arn") for q in queues],
                }
            ],
        },
    }


def resources(queues: list[StatusQueue]) -> dict[str, Any]:
    prefix = "${ServiceAccountPrefix}-"
    result: dict[str, Any] = {}
    for role_id, (suffix, policy_output, description) in SERVICE_ACCOUNT_ROLES.items():
        result |= bound_role(
            role_id,
            description,
            namespace="${Namespace}",
            service_account=prefix + suffix,
            name=suffix,
            policies=[imported(policy_output)],
        )
    for queue in queues:
        result |= bound_role(
            worker_role_id(queue),
            f"the {queue.status} worker",
            namespace="${Namespace}",
            service_account=f"{prefix}worker-{queue.slug}",
            name=f"worker-{queue.slug}",
            policies=[imported(f"{data.worker_policy_id(queue)}Arn")],
        )
    result |= bound_role(
        KEDA_ROLE,
        "KEDA's operator (queue depth)",
        namespace="${KedaNamespace}",
        service_account="${KedaServiceAccount}",
        name="keda-operator",
        inline=keda_policy(queues),
    )
    return result


def helm_role_values() -> dict[str, Any]:
    """IRSA: the chart's ``--set`` values that annotate each service account with its role
    (the workers' by the chart's ``{slug}`` pattern, as the roles are named by status)."""
    role_arn = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-"
    values = [
        *(
            f"serviceAccounts.{suffix}.roleArn={role_arn}{suffix}"
            for suffix, _, _ in SERVICE_ACCOUNT_ROLES.values()
        ),
        "serviceAccounts.worker.perStatus=true",
        f"serviceAccounts.worker.roleArn={role_arn}worker-{{slug}}",
    ]
    return sub(",".join(values))


def outputs(queues: list[StatusQueue]) -> dict[str, Any]:
    ids = [*SERVICE_ACCOUNT_ROLES, *(worker_role_id(q) for q in queues), KEDA_ROLE]
    result = exported(
        {f"{role_id}Arn": output(get_att(role_id, "Arn"), role_id) for role_id in ids}
    )
    result["HelmRoleValues"] = {
        "Condition": "UseIrsa",
        "Description": "IRSA: pass to helm as --set (each service account's role annotation)",
        "Value": helm_role_values(),
    }
    return result


def template(queues: list[StatusQueue]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Work-order portal on EKS: one IAM role per part of the portal and per "
        f"status worker ({', '.join(q.status for q in queues)}) and KEDA's, trusting EKS Pod "
        "Identity (with associations to the chart's service accounts) or IRSA.",
        "Parameters": parameters(),
        "Rules": rules(),
        "Conditions": conditions(),
        "Resources": resources(queues),
        "Outputs": outputs(queues),
    }

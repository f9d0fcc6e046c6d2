"""CloudFormation: the IAM roles the Helm chart's service accounts use on EKS.

One role per part of the portal — web, relay, webhook dispatcher, one worker per status (the
chart's ``serviceAccounts.worker.perStatus: true``) and KEDA's operator — each trusting EKS
Pod Identity and bound to its service account by a ``PodIdentityAssociation``, each with the
data stack's least-privilege policy for that part (KEDA's only reads the queues' depth). The
ECS stack creates its own task roles; this stack is for Kubernetes only.
"""

from __future__ import annotations

from typing import Any

from deploy.aws import data
from deploy.aws.cfn import exported, get_att, import_value, output, ref, sub, tags
from deploy.workflow import StatusQueue

#: The chart's names: ``<release>-work-order-portal-<role>`` (templates/_helpers.tpl).
SERVICE_ACCOUNT_ROLES = {
    "WebRole": ("web", "WebPolicyArn", "the web role (API and admin)"),
    "RelayRole": ("relay", "RelayPolicyArn", "the event relay"),
    "WebhooksRole": ("webhooks", "WebhooksPolicyArn", "the webhook dispatcher"),
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


def role(description: str, *, policies: list[Any] | None = None, inline: Any = None) -> dict:
    properties: dict[str, Any] = {
        "Description": f"work-order portal on EKS: {description}",
        "AssumeRolePolicyDocument": pod_identity_trust(),
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
        "Properties": {
            "ClusterName": ref("ClusterName"),
            "Namespace": namespace,
            "ServiceAccount": service_account,
            "RoleArn": get_att(role_id, "Arn"),
        },
    }


def account(suffix: str) -> dict[str, Any]:
    return sub("${ServiceAccountPrefix}-" + suffix)


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
    result: dict[str, Any] = {}
    for role_id, (suffix, policy_output, description) in SERVICE_ACCOUNT_ROLES.items():
        result[role_id] = role(description, policies=[imported(policy_output)])
        result[f"{role_id}Association"] = association(role_id, account(suffix), ref("Namespace"))
    for queue in queues:
        role_id = worker_role_id(queue)
        result[role_id] = role(
            f"the {queue.status} worker",
            policies=[imported(f"{data.worker_policy_id(queue)}Arn")],
        )
        result[f"{role_id}Association"] = association(
            role_id, account(f"worker-{queue.slug}"), ref("Namespace")
        )
    result[KEDA_ROLE] = role("KEDA's operator (queue depth)", inline=keda_policy(queues))
    result[f"{KEDA_ROLE}Association"] = association(
        KEDA_ROLE, ref("KedaServiceAccount"), ref("KedaNamespace")
    )
    return result


def outputs(queues: list[StatusQueue]) -> dict[str, Any]:
    ids = [*SERVICE_ACCOUNT_ROLES, *(worker_role_id(q) for q in queues), KEDA_ROLE]
    return exported({f"{role_id}Arn": output(get_att(role_id, "Arn"), role_id) for role_id in ids})


def template(queues: list[StatusQueue]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Work-order portal on EKS: one IAM role per part of the portal and per "
        f"status worker ({', '.join(q.status for q in queues)}) and KEDA's, with EKS Pod "
        "Identity trust and associations to the chart's service accounts.",
        "Parameters": parameters(),
        "Resources": resources(queues),
        "Outputs": outputs(queues),
    }

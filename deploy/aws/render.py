"""Render the CloudFormation templates and their example parameter files from the status list.

``render_files(queues)`` is a pure function of ``queues`` (``deploy.render`` calls it with
``status_queues()``; tests call it with an extra status). ``python -m deploy.aws.render``
writes just these files (``python -m deploy.render`` writes every generated file).
"""

from __future__ import annotations

import sys
from typing import Any

from deploy.aws import data, ecs, eks
from deploy.aws.cfn import dump_json, dump_yaml
from deploy.files import write
from deploy.workflow import StatusQueue, status_queues

TEMPLATES = "deploy/aws/templates"
DATA_TEMPLATE = f"{TEMPLATES}/data.yaml"
ECS_TEMPLATE = f"{TEMPLATES}/ecs.yaml"
EKS_TEMPLATE = f"{TEMPLATES}/eks-roles.yaml"
DATA_PARAMS = f"{TEMPLATES}/data.params.example.json"
EKS_PARAMS = f"{TEMPLATES}/eks-roles.params.example.json"
ECS_PARAMS = f"{TEMPLATES}/ecs.params.example.json"

#: Example values for the parameters without a usable default (and a few worth showing).
DATA_EXAMPLE = {"Prefix": "workorders-prod", "Fifo": "false"}
EKS_EXAMPLE = {"DataStackName": "workorders-prod-data", "ClusterName": "orders-prod"}
ECS_EXAMPLE = {
    "DataStackName": "workorders-prod-data",
    "VpcId": "vpc-0123456789abcdef0",
    "PublicSubnetIds": "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2",
    "PrivateSubnetIds": "subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2",
    "ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/work-order-portal:1.0.0",
    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/"
    "00000000-0000-0000-0000-000000000000",
    "DatabaseUrlSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
    "workorders-prod/database-url-AbCdEf",
    "SecretKeySecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:"
    "workorders-prod/secret-key-AbCdEf",
    "AllowedHosts": "portal.example.com",
    "CsrfTrustedOrigins": "https://portal.example.com",
}


def example_parameters(template: dict[str, Any], examples: dict[str, str]) -> list[dict[str, str]]:
    """Every parameter of the template, in its order, in the format both ``aws cloudformation
    create-stack --parameters file://...`` and ``deploy --parameter-overrides file://...`` read."""
    result = []
    for name, spec in template["Parameters"].items():
        value = examples.get(name, spec.get("Default"))
        if value is None:
            raise ValueError(f"parameter {name} has neither a default nor an example value")
        result.append({"ParameterKey": name, "ParameterValue": str(value)})
    return result


def render_files(queues: list[StatusQueue]) -> dict[str, str]:
    data_template = data.template(queues)
    ecs_template = ecs.template(queues)
    eks_template = eks.template(queues)
    return {
        DATA_TEMPLATE: dump_yaml(data_template),
        ECS_TEMPLATE: dump_yaml(ecs_template),
        EKS_TEMPLATE: dump_yaml(eks_template),
        EKS_PARAMS: dump_json(example_parameters(eks_template, EKS_EXAMPLE)),
        DATA_PARAMS: dump_json(example_parameters(data_template, DATA_EXAMPLE)),
        ECS_PARAMS: dump_json(example_parameters(ecs_template, ECS_EXAMPLE)),
    }


def main() -> int:
    for relative in write(render_files(status_queues())):
        print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

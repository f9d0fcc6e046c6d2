"""The data-plane stack (``deploy/aws/templates/data.yaml``): everything the workflow table
implies on AWS, the same resources ``manage.py provision`` creates on the emulator
(``orders/provisioning.py``), plus what production needs on top: encryption, backups, alarms
and least-privilege IAM policies for each role.

A pure function of the status list: one queue, dead-letter queue, queue policy, filtered
subscription, two alarms and one worker policy per status.

One module per job: ``names`` (resource names, logical ids, ARNs and SSM settings the other
stacks and the checks share), ``parameters`` (parameters, mappings, rules, conditions),
``storage`` (tables, topic, bucket), ``queues`` (the per-status resources), ``policies`` (IAM)
and ``outputs`` (outputs and SSM settings); ``template`` assembles them.
"""

from __future__ import annotations

from typing import Any

from deploy.aws.data.names import (
    BUCKET,
    BUCKET_POLICY,
    RELAY_POLICY,
    SCHEDULER_POLICY,
    SIDE_TABLE,
    TABLE,
    TOPIC,
    WEB_POLICY,
    WEBHOOKS_POLICY,
)
from deploy.aws.data.outputs import outputs, settings
from deploy.aws.data.parameters import conditions, mappings, parameters, rules
from deploy.aws.data.policies import relay_policy, scheduler_policy, web_policy, webhooks_policy
from deploy.aws.data.queues import status_resources
from deploy.aws.data.storage import bucket, bucket_policy, side_table, table, topic
from deploy.workflow import StatusQueue


def template(queues: list[StatusQueue]) -> dict[str, Any]:
    """The whole data stack for ``queues``, in the order the checked-in template has it."""
    resources: dict[str, Any] = {
        TABLE: table(),
        SIDE_TABLE: side_table(),
        TOPIC: topic(),
        BUCKET: bucket(),
        BUCKET_POLICY: bucket_policy(),
        **settings(),
    }
    for queue in queues:
        resources.update(status_resources(queue))
    resources[WEB_POLICY] = web_policy(queues)
    resources[RELAY_POLICY] = relay_policy()
    resources[WEBHOOKS_POLICY] = webhooks_policy()
    resources[SCHEDULER_POLICY] = scheduler_policy()
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Work-order portal data plane: orders table, order events topic, one "
        "queue, dead-letter queue, filtered subscription, alarms and worker policy per status "
        f"({', '.join(q.status for q in queues)}).",
        "Parameters": parameters(queues),
        "Mappings": mappings(),
        "Rules": rules(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": outputs(queues),
    }

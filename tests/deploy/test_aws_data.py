"""The data stack agrees with the application: queue and topic names in both modes, the
redrive count, the table ``manage.py provision`` creates, and least-privilege policies.

Rendering is pure (no AWS, no Django database).
"""

from __future__ import annotations

from typing import Any

import pytest

from aws.provisioning import REDRIVE_MARGIN, TTL_ATTRIBUTE
from aws.resources import Resources
from deploy.aws import check, ecs
from deploy.aws.data import names as data
from deploy.workflow import status_queues
from orders.repository.table_design import table_definition
from tests.deploy.aws_support import evaluate, templates

NO_VALUE = {"Ref": "AWS::NoValue"}

# -- (a) FIFO -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fifo", ["true", "false"])
def test_queue_and_topic_names_match_the_application_in_both_modes(rendered, fifo):
    data_template, _ = templates(rendered)
    parameters = {"Prefix": "workorders-prod", "Fifo": fifo}
    conditions = data_template["Conditions"]
    app = Resources(
        prefix="workorders-prod",
        table="workorders-prod-orders",
        topic="workorders-prod-order-events",
        fifo=fifo == "true",
    )
    resources = data_template["Resources"]
    for queue in status_queues():
        props = resources[data.queue_id(queue)]["Properties"]
        dlq_props = resources[data.dead_letter_queue_id(queue)]["Properties"]
        assert evaluate(props["QueueName"], parameters, conditions) == app.queue_name(queue.status)
        assert evaluate(dlq_props["QueueName"], parameters, conditions) == (
            app.dead_letter_queue_name(queue.status)
        )
        expected_fifo = True if fifo == "true" else {"Ref": "AWS::NoValue"}
        assert evaluate(props["FifoQueue"], parameters, conditions) == expected_fifo
        assert evaluate(dlq_props["FifoQueue"], parameters, conditions) == expected_fifo
    topic = resources[data.TOPIC]["Properties"]
    assert evaluate(topic["TopicName"], parameters, conditions) == app.topic_name
    if fifo == "true":
        assert evaluate(topic["FifoTopic"], parameters, conditions) is True
        # The relay sets MessageDeduplicationId itself (the event id).
        assert evaluate(topic["ContentBasedDeduplication"], parameters, conditions) is False


def test_fifo_names_are_an_fn_if_on_the_fifo_parameter(rendered):
    data_template, _ = templates(rendered)
    assert data_template["Conditions"]["IsFifo"] == {"Fn::Equals": [{"Ref": "Fifo"}, "true"]}
    name = data_template["Resources"]["InProgressQueue"]["Properties"]["QueueName"]
    assert name == {
        "Fn::If": [
            "IsFifo",
            {"Fn::Sub": "${Prefix}-in-progress.fifo"},
            {"Fn::Sub": "${Prefix}-in-progress"},
        ]
    }


def test_redrive_count_is_max_receive_count_plus_the_margin(rendered):
    data_template, _ = templates(rendered)
    redrive = data_template["Mappings"]["Redrive"]
    assert data_template["Parameters"]["MaxReceiveCount"]["Default"] == "5"
    for count, row in redrive.items():
        assert row["MaxReceiveCount"] == int(count) + REDRIVE_MARGIN
    policy = data_template["Resources"]["ReceivedQueue"]["Properties"]["RedrivePolicy"]
    assert policy["maxReceiveCount"] == {
        "Fn::FindInMap": ["Redrive", {"Ref": "MaxReceiveCount"}, "MaxReceiveCount"]
    }


def test_longest_prefix_still_fits_sqs_names(rendered):
    data_template, _ = templates(rendered)
    longest = "p" * data_template["Parameters"]["Prefix"]["MaxLength"]
    for queue in status_queues():
        assert len(queue.dead_letter_queue_name(longest, True)) <= 80


# -- (b) the table is what provision creates --------------------------------------------------


def test_table_matches_table_definition(rendered):
    data_template, _ = templates(rendered)
    table = data_template["Resources"][data.TABLE]
    props = table["Properties"]
    definition = table_definition("unused")
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert props["TableName"] == {"Fn::Sub": "${Prefix}-orders"}
    for key in ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes"):
        assert props[key] == definition[key], key
    assert (
        props["StreamSpecification"]["StreamViewType"]
        == (definition["StreamSpecification"]["StreamViewType"])
    )
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    local = props["Replicas"][0]
    assert local["Region"] == {"Ref": "AWS::Region"}
    assert local["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert local["DeletionProtectionEnabled"] is True


def test_table_fits_dynamodb_projection_limits(rendered):
    """DynamoDB refuses more than 20 non-key attributes in one INCLUDE projection; moto does
    not check, so only this test would notice before a real deployment does."""
    data_template, _ = templates(rendered)
    assert check.table_problems(data_template) == []


# -- (c) least privilege -----------------------------------------------------------------------


def _referenced_ids(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        if "Ref" in value:
            found.add(value["Ref"])
        for item in value.values():
            found |= _referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _referenced_ids(item)
    return found


def test_a_worker_policy_reaches_only_its_own_queues(rendered):
    data_template, ecs_template = templates(rendered)
    queues = status_queues()
    every_queue = {data.queue_id(q) for q in queues} | {
        data.dead_letter_queue_id(q) for q in queues
    }
    for queue in queues:
        document = data_template["Resources"][data.worker_policy_id(queue)]["Properties"][
            "PolicyDocument"
        ]
        reached = _referenced_ids(document) & every_queue
        assert reached == {data.queue_id(queue), data.dead_letter_queue_id(queue)}, queue.status
        role = ecs_template["Resources"][ecs.worker_role_id(queue)]["Properties"]
        assert role["ManagedPolicyArns"] == [
            {
                "Fn::ImportValue": {
                    "Fn::Sub": f"${{DataStackName}}-{queue.logical_id}WorkerPolicyArn"
                }
            }
        ]
        for statement in document["Statement"]:
            if "Fn::If" in statement:
                continue  # the customer-managed-key statement, scoped to the key
            assert statement["Resource"] != "*", statement


def test_only_the_web_policy_reads_cloudwatch_and_nothing_grants_everything(rendered):
    data_template, _ = templates(rendered)
    for name, resource in data_template["Resources"].items():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]
            actions = statement["Action"]
            assert not any(a.endswith(":*") or a == "*" for a in actions), (name, actions)
            if statement.get("Resource") == "*":
                assert (name, actions) == ("WebPolicy", ["cloudwatch:GetMetricStatistics"])


@pytest.mark.parametrize("key", ["", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd"])
def test_the_schedulers_policy_may_use_the_tables_key_only_when_the_stack_has_one(rendered, key):
    """The scheduler's policy is the data stack's, like every role's: with KmsKeyArn it may
    use that key, only through DynamoDB (it touches no queue, topic message or bucket), and
    the operator sets the key once, on the data stack."""
    data_template, _ = templates(rendered)
    document = data_template["Resources"][data.SCHEDULER_POLICY]["Properties"]["PolicyDocument"]
    statements = evaluate(document["Statement"], {"KmsKeyArn": key}, data_template["Conditions"])
    kms = [s for s in statements if s != NO_VALUE and s["Sid"] == "CustomerManagedKey"]
    if key:
        (statement,) = kms
        assert statement["Resource"] == key
        assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert statement["Condition"] == {
            "StringEquals": {"kms:ViaService": ["dynamodb.${AWS::Region}.amazonaws.com"]}
        }
    else:
        assert kms == []

"""SNS filter policies really route: an event with status X lands on X's queue and no other."""

from __future__ import annotations

import json

import pytest

from aws.provisioning import REDRIVE_MARGIN, Provisioner, ProvisionSettings
from orders.domain.model import Actor
from orders.domain.workflow import STATUSES, Status
from orders.events.publisher import SnsPublisher
from tests.conftest import unique_prefix
from tests.integration.factories import moved, new_order
from tests.support import AwsStack, wait_for


def test_provisioning_is_idempotent_and_derived_from_the_workflow(aws):
    lines: list[str] = []
    Provisioner(
        dynamodb=aws.dynamodb,
        sns=aws.sns,
        sqs=aws.sqs,
        resources=aws.resources,
        settings=ProvisionSettings(max_receive_count=5, visibility_timeout=30),
        report=lines.append,
    ).run()
    assert not [line for line in lines if line.startswith(("created", "subscribed"))], lines

    subscriptions = aws.sns.list_subscriptions_by_topic(TopicArn=aws.topic_arn)["Subscriptions"]
    ours = [
        s
        for s in subscriptions
        if s["Endpoint"].rsplit(":", 1)[-1].startswith(aws.resources.prefix)
    ]
    assert len(ours) == len(STATUSES)  # one per status, none duplicated by the second run
    for subscription in ours:
        attributes = aws.sns.get_subscription_attributes(
            SubscriptionArn=subscription["SubscriptionArn"]
        )["Attributes"]
        queue_name = subscription["Endpoint"].rsplit(":", 1)[-1]
        status = aws.resources.status_for_queue(queue_name)
        assert attributes["RawMessageDelivery"] == "true"
        assert json.loads(attributes["FilterPolicy"]) == {"status": [str(status)]}

    for status in STATUSES:
        attributes = aws.sqs.get_queue_attributes(
            QueueUrl=aws.status_queue(status), AttributeNames=["All"]
        )["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(aws.resources.dead_letter_queue_name(status))
        assert redrive["maxReceiveCount"] == 5 + REDRIVE_MARGIN
        policy = json.loads(attributes["Policy"])
        assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == aws.topic_arn


def publisher_for(stack: AwsStack) -> SnsPublisher:
    return SnsPublisher(stack.sns, lambda: stack.topic_arn, fifo=stack.resources.fifo)


def test_each_status_lands_only_on_its_own_queue(aws):
    for status in STATUSES:
        aws.drain(aws.status_queue(status))
    publisher = publisher_for(aws)
    order, _, created = new_order(category="hvac")
    published = {Status.RECEIVED: created}
    # One event per status: walk the order through every move the table has.
    accepted, _, m = moved(order, Status.ACCEPTED)
    published[Status.ACCEPTED] = m
    scheduled, _, m = moved(accepted, Status.SCHEDULED, team="hvac-crew")
    published[Status.SCHEDULED] = m
    started, _, m = moved(scheduled, Status.IN_PROGRESS, actor=_staff())
    published[Status.IN_PROGRESS] = m
    published[Status.COMPLETED] = moved(started, Status.COMPLETED, actor=_staff())[2]
    published[Status.CANCELLED] = moved(started, Status.CANCELLED, actor=_staff())[2]
    published[Status.REJECTED] = moved(order, Status.REJECTED, reason="no")[2]
    published[Status.ON_HOLD] = moved(started, Status.ON_HOLD, actor=_staff(), reason="parts")[2]
    assert set(published) == set(STATUSES)
    publisher.publish(list(published.values()))

    for status in STATUSES:
        queue = aws.status_queue(status)
        got = wait_for(lambda q=queue: aws.drain(q), timeout=5, what=f"a message on {status}")
        assert [m["Body"] for m in got] == [published[status].body]
        assert got[0]["MessageAttributes"]["status"]["StringValue"] == str(status)
    for status in STATUSES:  # nothing else arrived anywhere
        assert aws.drain(aws.status_queue(status)) == []


def _staff() -> Actor:
    return Actor.staff("dispatcher")


@pytest.fixture(scope="module")
def fifo_stack(emulator) -> AwsStack:
    return AwsStack.provision(emulator, unique_prefix("fifo"), fifo=True)


def test_fifo_mode_uses_fifo_resources_grouped_by_order_and_deduplicated_by_event(fifo_stack):
    stack = fifo_stack
    assert stack.resources.queue_name("received").endswith(".fifo")
    topic = stack.sns.get_topic_attributes(TopicArn=stack.topic_arn)["Attributes"]
    assert topic["FifoTopic"] == "true"
    queue = stack.status_queue("received")
    assert (
        stack.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["FifoQueue"])["Attributes"][
            "FifoQueue"
        ]
        == "true"
    )

    publisher = publisher_for(stack)
    first, _, m1 = new_order()
    second, _, m2 = new_order()
    publisher.publish([m1])
    publisher.publish([m1, m2])  # m1 again: deduplicated by its event id

    received = []
    wait_for(
        lambda: received.extend(stack.drain(queue)) or len(received) >= 2,
        timeout=5,
        what="both events",
    )
    assert sorted(m["Body"] for m in received) == sorted([m1.body, m2.body])
    groups = {json.loads(m["Body"])["subject"]: m["Attributes"]["MessageGroupId"] for m in received}
    assert groups == {first.id: first.id, second.id: second.id}
    assert stack.drain(queue) == []
    for status in STATUSES:
        if status != Status.RECEIVED:
            assert stack.drain(stack.status_queue(status)) == []

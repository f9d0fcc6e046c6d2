"""Events the stored orders contradict — another integrator's name on an order, an order that
does not exist, fields missing — reach nobody's webhooks and go to the dead-letter queue on
their first receive. Published to the topic as anyone with publish rights could."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.integration.factories import EXAMPLE
from tests.support import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture(scope="module")
def bystander(portal, django_db_blocker) -> dict[str, str]:
    """Another integrator, committed so the web and worker processes see it."""
    from integrators.services import create_integrator, issue_key

    with django_db_blocker.unblock():
        integrator, _ = create_integrator("Bystander", slug=f"bystander-{uuid.uuid4().hex[:6]}")
        _, key = issue_key(integrator, label="e2e")
    return {"slug": integrator.slug, "Authorization": f"Bearer {key}"}


@pytest.fixture
def bystander_endpoint(portal, bystander):
    """A webhook endpoint of the bystander's that wants every event."""
    headers = {"Authorization": bystander["Authorization"]}
    created = requests.post(
        f"{portal.base_url}/v1/webhooks",
        headers=headers,
        json={"url": "http://127.0.0.1:9/never-called"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    endpoint = created.json()
    yield endpoint
    requests.delete(f"{portal.base_url}/v1/webhooks/{endpoint['id']}", headers=headers, timeout=10)


def deliveries(portal, bystander, endpoint) -> list[dict]:
    response = requests.get(
        f"{portal.base_url}/v1/webhooks/{endpoint['id']}/deliveries",
        headers={"Authorization": bystander["Authorization"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]


def genuine_scheduled_event(portal, reference: str) -> dict:
    created = portal.post_order({**EXAMPLE, "external_reference": reference})
    portal.wait_for_status(created["id"], "scheduled")

    def scheduled_body():
        for message in portal.aws.drain(portal.tap):
            body = json.loads(message["Body"])
            if body["subject"] == created["id"] and body["data"]["order"]["status"] == "scheduled":
                return body
        return None

    return wait_for(scheduled_body, timeout=15, what="the scheduled event on the tap")


def publish(portal, body: dict) -> None:
    portal.aws.sns.publish(
        TopicArn=portal.aws.topic_arn,
        Message=json.dumps(body),
        MessageAttributes={
            "status": {"DataType": "String", "StringValue": body["data"]["order"]["status"]},
            "event_type": {"DataType": "String", "StringValue": body["type"]},
        },
    )


def dead_letter_of(portal, status: str, event_id: str) -> dict:
    dlq = portal.aws.dead_letter_queue(status)

    def found():
        for message in portal.aws.drain(dlq):
            if json.loads(message["Body"]).get("id") == event_id:
                return message
        return None

    return wait_for(found, timeout=15, what=f"event {event_id} in the {status} DLQ")


def forged(body: dict, **order_changes) -> dict:
    doc = json.loads(json.dumps(body))
    doc["id"] = str(uuid.uuid4())
    doc["data"]["order"].update(order_changes)
    return doc


def assert_dead_lettered_at_once(portal, status: str, event: dict) -> str:
    letter = dead_letter_of(portal, status, event["id"])
    attributes = letter["MessageAttributes"]
    assert attributes["receive_count"]["StringValue"] == "1"  # no retries: it cannot succeed
    return attributes["failure_reason"]["StringValue"]


def test_an_event_naming_another_integrator_reaches_only_the_dead_letter_queue(
    portal, bystander, bystander_endpoint
):
    genuine = genuine_scheduled_event(portal, "FORGE-1")
    event = forged(genuine, integrator=bystander["slug"])

    publish(portal, event)

    reason = assert_dead_lettered_at_once(portal, "scheduled", event)
    assert "integrator" in reason or "does not match" in reason, reason
    assert deliveries(portal, bystander, bystander_endpoint) == []


def test_an_event_for_an_order_that_does_not_exist_reaches_only_the_dead_letter_queue(
    portal, bystander, bystander_endpoint
):
    genuine = genuine_scheduled_event(portal, "FORGE-2")
    event = forged(genuine, integrator=bystander["slug"], id=str(uuid.uuid4()))
    event["subject"] = event["data"]["order"]["id"]

    publish(portal, event)

    assert_dead_lettered_at_once(portal, "scheduled", event)
    assert deliveries(portal, bystander, bystander_endpoint) == []


@pytest.mark.parametrize("status", ["in_progress", "rejected"])
def test_forged_events_on_every_notifying_queue_are_dead_lettered(
    portal, bystander, bystander_endpoint, status
):
    genuine = genuine_scheduled_event(portal, f"FORGE-3-{status}")
    event = forged(genuine, integrator=bystander["slug"], status=status)
    event["data"]["transition"].update({"from": "scheduled", "to": status})

    publish(portal, event)

    assert_dead_lettered_at_once(portal, status, event)
    assert deliveries(portal, bystander, bystander_endpoint) == []


def test_an_event_missing_its_integrator_is_dead_lettered_at_once(portal):
    genuine = genuine_scheduled_event(portal, "FORGE-4")
    event = forged(genuine)
    del event["data"]["order"]["integrator"]

    publish(portal, event)

    assert_dead_lettered_at_once(portal, "scheduled", event)

"""Orders submitted over HTTP, moved by real Celery workers consuming the SNS-fed queues."""

from __future__ import annotations

import json

import pytest
import requests

from tests.integration.factories import EXAMPLE
from tests.support import wait_for

# django_db makes pytest-django create the test database, which the web and worker processes
# started by the ``portal`` fixture share.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def history(order: dict) -> list[tuple]:
    return [(h["from"], h["to"], h["actor"]["kind"], h["actor"]["id"]) for h in order["history"]]


def test_an_order_reaches_scheduled_with_its_full_history(portal):
    created = portal.post_order(EXAMPLE)

    order = portal.wait_for_status(created["id"], "scheduled")

    assert history(order) == [
        (None, "received", "integrator", portal.integrator),
        ("received", "accepted", "system", "worker:received"),
        ("accepted", "scheduled", "system", "worker:accepted"),
    ]
    assert order["version"] == 3
    assert order["assigned_team"] == "hvac-crew"
    assert order["sla_due_at"] is not None


def test_an_order_no_team_can_serve_is_rejected_with_its_reason(portal):
    created = portal.post_order({**EXAMPLE, "category": "general", "external_reference": "WO-2"})

    order = portal.wait_for_status(created["id"], "rejected")

    assert order["rejection_reason"] == "No active team serves the 'general' category."
    assert [h["to"] for h in order["history"]] == ["received", "rejected"]


def tapped_events(portal, order_id: str, count: int) -> dict[str, dict]:
    """The events the topic carried for an order, by status (from the unfiltered tap)."""
    seen: dict[str, dict] = {}

    def collect() -> bool:
        for message in portal.aws.drain(portal.tap):
            body = json.loads(message["Body"])
            if body["subject"] == order_id:
                seen[body["data"]["order"]["status"]] = message
        return len(seen) >= count

    wait_for(collect, timeout=15, what=f"{count} events of {order_id}")
    return seen


def wait_until_consumed(portal, queue_url: str) -> None:
    wait_for(lambda: portal.aws.depth(queue_url) == (0, 0), timeout=15, what="queue drained")


def test_a_duplicate_delivery_changes_nothing(portal):
    created = portal.post_order({**EXAMPLE, "external_reference": "WO-3"})
    before = portal.wait_for_status(created["id"], "scheduled")
    events = tapped_events(portal, created["id"], 3)

    # SQS delivers at least once: deliver the received and accepted events a second time.
    for status in ("received", "accepted"):
        queue = portal.aws.status_queue(status)
        portal.aws.sqs.send_message(
            QueueUrl=queue,
            MessageBody=events[status]["Body"],
            MessageAttributes=events[status]["MessageAttributes"],
        )
    for status in ("received", "accepted"):
        wait_until_consumed(portal, portal.aws.status_queue(status))

    after = portal.get_order(created["id"])
    # The SLA clock's used and remaining time go on running; what it promises does not move.
    clock_before, clock_after = before.pop("sla"), after.pop("sla")
    assert clock_after["due_at"] == clock_before["due_at"]
    assert after == before
    for status in ("received", "accepted"):
        assert portal.aws.drain(portal.aws.dead_letter_queue(status)) == []


def test_a_malformed_message_goes_to_the_dead_letter_queue_and_the_worker_keeps_serving(portal):
    queue = portal.aws.status_queue("received")
    dlq = portal.aws.dead_letter_queue("received")
    portal.aws.drain(dlq)

    portal.aws.sqs.send_message(QueueUrl=queue, MessageBody="this is not an order event")

    dead = wait_for(lambda: portal.aws.drain(dlq), timeout=15, what="a dead letter")
    assert [m["Body"] for m in dead] == ["this is not an order event"]
    reason = dead[0]["MessageAttributes"]["failure_reason"]["StringValue"]
    assert reason.startswith("not a valid order event")
    assert dead[0]["MessageAttributes"]["failed_queue"][
        "StringValue"
    ] == portal.aws.resources.queue_name("received")

    created = portal.post_order({**EXAMPLE, "external_reference": "WO-4"})
    assert portal.wait_for_status(created["id"], "scheduled")["version"] == 3


def move(portal, order_id: str, to: str) -> dict:
    response = requests.post(
        f"{portal.base_url}/v1/orders/{order_id}/transitions",
        headers=portal.auth,
        json={"to": to},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_orders_beyond_capacity_wait_and_are_scheduled_oldest_first_when_it_frees(portal):
    """The only plumbing team has one slot: further plumbing orders wait in accepted, without
    a team and out of the dead-letter queue, and completing the first order schedules the
    oldest waiting one."""
    dlq = portal.aws.dead_letter_queue("accepted")
    portal.aws.drain(dlq)
    first = portal.post_order({**EXAMPLE, "category": "plumbing", "external_reference": "WO-5"})
    portal.wait_for_status(first["id"], "scheduled")
    older = portal.post_order({**EXAMPLE, "category": "plumbing", "external_reference": "WO-6"})
    portal.wait_for_status(older["id"], "accepted")
    younger = portal.post_order({**EXAMPLE, "category": "plumbing", "external_reference": "WO-7"})
    portal.wait_for_status(younger["id"], "accepted")
    accepted_queue = portal.aws.status_queue("accepted")
    try:
        # The accepted worker parks them and acknowledges their events: nothing is retried.
        wait_until_consumed(portal, accepted_queue)
        for waiting in (older, younger):
            order = portal.get_order(waiting["id"])
            assert (order["status"], order["assigned_team"]) == ("accepted", None)

        move(portal, first["id"], "in_progress")
        move(portal, first["id"], "completed")

        scheduled = portal.wait_for_status(older["id"], "scheduled", timeout=15)
        assert scheduled["assigned_team"] == "plumbing-crew"
        assert portal.get_order(younger["id"])["status"] == "accepted"
        assert portal.aws.drain(dlq) == []
    finally:
        # Give the slot back for other tests: the younger first, so nothing takes it after.
        for order in (younger, older):
            if portal.get_order(order["id"])["status"] in ("accepted", "scheduled"):
                move(portal, order["id"], "cancelled")


def test_the_event_feed_lists_the_orders_events_in_order(portal):
    created = portal.post_order({**EXAMPLE, "external_reference": "WO-FEED"})
    portal.wait_for_status(created["id"], "scheduled")

    def statuses() -> list[str]:
        seen, after = [], None
        while True:
            page = requests.get(
                f"{portal.base_url}/v1/events",
                headers=portal.auth,
                timeout=10,
                params={"limit": 200, **({"after": after} if after else {})},
            ).json()
            seen += [
                e["data"]["order"]["status"]
                for e in page["results"]
                if e["subject"] == created["id"]
            ]
            if not page["results"]:
                return seen
            after = page["next_cursor"]

    # The feed shows events once they have settled (2 s by default).
    assert wait_for(lambda: len(statuses()) >= 3 and statuses(), timeout=20) == [
        "received",
        "accepted",
        "scheduled",
    ]

"""Staff's internal notes never reach the integrator: not its notes, the order's history, the
event feed after the relay ran, nor its webhooks; public notes reach all of them."""

from __future__ import annotations

import json
import uuid

import pytest

from orders.domain.model import Actor
from tests.integration.factories import EXAMPLE

STAFF = Actor.staff("alice")


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.EVENT_FEED_SETTLE_SECONDS = 0


def create(api) -> dict:
    response = api.post(
        "/v1/orders",
        data=json.dumps({**EXAMPLE, "external_reference": uuid.uuid4().hex}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def last_event(aws, order_id: str):
    """The event committed with the order's latest change, as the workers receive it."""
    from orders.events.contract import parse_event

    item = aws.dynamodb.get_item(
        TableName=aws.resources.table,
        Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}},
    )["Item"]
    from portal import container

    return parse_event(container.order_repository().event_from_image(item).body)


def test_internal_notes_never_reach_the_integrator(api, aws, relay, integrator):
    from portal.container import order_services

    order = create(api)
    service = order_services()
    service.timeline.add_note(
        order_id=order["id"],
        text="Customer is difficult",
        visibility="internal",
        actor=STAFF,
        author_name="Alice",
    )
    service.timeline.add_note(
        order_id=order["id"], text="We come Tuesday", actor=STAFF, author_name="Alice"
    )
    relay.poll()

    notes = api.get(f"/v1/orders/{order['id']}/notes").json()["results"]
    assert [n["text"] for n in notes] == ["We come Tuesday"]
    seen = api.get(f"/v1/orders/{order['id']}")
    assert "Customer is difficult" not in seen.content.decode()
    # The integrator counts its own versions: no gap where the internal note is.
    assert seen.json()["version"] == 2 and seen["ETag"] == '"2"'
    assert [h["version"] for h in seen.json()["history"]] == [1, 2]
    history = api.get(f"/v1/orders/{order['id']}/events").json()["results"]
    assert [h["type"] for h in history] == ["order.created", "order.note_added"]
    assert [h["version"] for h in history] == [1, 2]
    feed = api.get("/v1/events?limit=50").json()["results"]
    mine = [e for e in feed if e["subject"] == order["id"]]
    assert [e["type"] for e in mine] == ["order.created", "order.note_added"]
    assert [e["data"]["order"]["version"] for e in mine] == [1, 2]
    assert mine[1]["data"]["note"]["text"] == "We come Tuesday"
    assert "Customer is difficult" not in json.dumps(feed)
    # Staff see both.
    assert [n.text for n in service.read.notes(order["id"])] == [
        "Customer is difficult",
        "We come Tuesday",
    ]


class RecordingNotifier:
    def __init__(self) -> None:
        self.events: list = []

    def notify(self, event, *, integrator: str) -> int:
        self.events.append(event)
        return 1


def test_internal_events_are_not_sent_to_webhooks(api, aws):
    from portal.container import order_services

    order = create(api)
    service = order_services()
    service.timeline.add_note(
        order_id=order["id"], text="internal", visibility="internal", actor=STAFF, author_name="A"
    )
    internal = last_event(aws, order["id"])
    assert internal.internal is True
    recorder = RecordingNotifier()
    service.pipeline.notifier, saved = recorder, service.pipeline.notifier
    try:
        assert service.pipeline.notify(internal, service.pipeline.verified_order(internal)) == 0
        service.timeline.add_note(order_id=order["id"], text="public", actor=STAFF, author_name="A")
        public = last_event(aws, order["id"])
        assert public.internal is False
        assert service.pipeline.notify(public, service.pipeline.verified_order(public)) == 1
    finally:
        service.pipeline.notifier = saved
    assert [e.id for e in recorder.events] == [public.id]


def test_an_internal_note_leaves_the_integrators_etag_and_if_match_valid(api, aws):
    from portal.container import order_services

    order = create(api)
    order_services().timeline.add_note(
        order_id=order["id"],
        text="Call the owner",
        visibility="internal",
        actor=STAFF,
        author_name="Alice",
    )
    seen = api.get(f"/v1/orders/{order['id']}")
    assert seen["ETag"] == '"1"' and seen.json()["updated_at"] == order["updated_at"]
    # A list reads the index, which holds no history: it shows the same version and time.
    listed = api.get(f"/v1/orders?external_reference={order['external_reference']}").json()
    assert [(o["version"], o["updated_at"]) for o in listed["results"]] == [
        (1, order["updated_at"])
    ]
    assert api.get(f"/v1/orders/{order['id']}", HTTP_IF_NONE_MATCH='"1"').status_code == 304

    noted = api.post(
        f"/v1/orders/{order['id']}/notes",
        data=json.dumps({"text": "Gate code 4711"}),
        content_type="application/json",
        HTTP_IF_MATCH='"1"',
    )

    assert noted.status_code == 201, noted.content
    after = api.get(f"/v1/orders/{order['id']}")
    assert after["ETag"] == '"2"'
    assert [h["version"] for h in after.json()["history"]] == [1, 2]
    stale = api.post(
        f"/v1/orders/{order['id']}/notes",
        data=json.dumps({"text": "Late"}),
        content_type="application/json",
        HTTP_IF_MATCH='"1"',
    )
    assert stale.status_code == 412 and stale.json()["current_version"] == 2


def test_workers_take_an_event_published_before_an_internal_note_as_stale(api, aws):
    """The workers' own bookkeeping still counts every change: an event older than a staff
    note is recognised as such (the note's event, routed to the same queue, carries on)."""
    from portal.container import order_services

    order = create(api)
    created = last_event(aws, order["id"])
    service = order_services()
    service.timeline.add_note(
        order_id=order["id"], text="x", visibility="internal", actor=STAFF, author_name="A"
    )
    note = last_event(aws, order["id"])
    from orders.services.pipeline import revision

    stored = service.pipeline.verified_order(created)
    assert service.pipeline.verified_order(note) == stored
    assert (
        service.pipeline.review(
            order_id=order["id"], version=revision(created, stored), actor=STAFF, stored=stored
        )
        is None
    )
    reviewed = service.pipeline.review(
        order_id=order["id"], version=revision(note, stored), actor=STAFF, stored=stored
    )
    assert reviewed is not None and reviewed.version == 3 and reviewed.public_version == 2

"""GET /v1/events: an integrator catches up on every event of its orders, from any point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from orders.repository.feed import CLOCK_MARGIN_SECONDS
from tests.integration.conftest import client_for, make_integrator
from tests.integration.factories import EXAMPLE


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.EVENT_FEED_SETTLE_SECONDS = 0


def create(client, **fields) -> dict:
    response = client.post(
        "/v1/orders", data=json.dumps({**EXAMPLE, **fields}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def cancel(client, order_id: str) -> None:
    response = client.post(
        f"/v1/orders/{order_id}/transitions",
        data=json.dumps({"to": "cancelled"}),
        content_type="application/json",
    )
    assert response.status_code == 200


def read_all(client, after: str | None = None, limit: int = 2) -> tuple[list[dict], str]:
    events = []
    while True:
        query = f"?limit={limit}" + (f"&after={after}" if after else "")
        page = client.get(f"/v1/events{query}").json()
        events.extend(page["results"])
        if after == page["next_cursor"] or not page["results"]:
            return events, page["next_cursor"]
        after = page["next_cursor"]


def test_the_feed_has_every_event_of_the_callers_orders_in_order(aws, relay, db):
    acme, other = make_integrator("Acme"), make_integrator("Other")
    api, other_api = client_for(acme), client_for(other)
    first = create(api, external_reference="FEED-1")
    second = create(api, external_reference="FEED-2")
    cancel(api, first["id"])
    create(other_api, external_reference="FEED-1")
    relay.poll()

    events, cursor = read_all(api)

    assert [(e["subject"], e["data"]["order"]["status"]) for e in events] == [
        (first["id"], "received"),
        (second["id"], "received"),
        (first["id"], "cancelled"),
    ]
    assert len({e["id"] for e in events}) == 3
    assert [e["data"]["order"]["integrator"] for e in read_all(other_api)[0]] == [other.slug]

    # Later events continue from the cursor, with nothing repeated.
    cancel(api, second["id"])
    relay.poll()
    more, _ = read_all(api, after=cursor)
    assert [(e["subject"], e["data"]["order"]["status"]) for e in more] == [
        (second["id"], "cancelled")
    ]


def test_an_empty_read_keeps_the_position(aws, relay, integrator):
    api = client_for(integrator)
    page = api.get("/v1/events").json()
    assert page["results"] == []
    again = api.get(f"/v1/events?after={page['next_cursor']}").json()
    assert again["results"] == []


def test_a_cursor_is_only_good_for_its_own_feed(aws, relay, db):
    alice, bob = client_for(make_integrator("Alice")), client_for(make_integrator("Bob"))
    cursor = alice.get("/v1/events").json()["next_cursor"]
    assert bob.get(f"/v1/events?after={cursor}").status_code == 400
    assert alice.get("/v1/events?after=garbage").status_code == 400
    assert alice.get("/v1/events?limit=0").status_code == 400


def test_events_wait_for_the_settling_time(aws, relay, integrator, settings):
    settings.EVENT_FEED_SETTLE_SECONDS = 3600
    api = client_for(integrator)
    create(api, external_reference="FEED-LATE")
    relay.poll()
    assert api.get("/v1/events").json()["results"] == []
    settings.EVENT_FEED_SETTLE_SECONDS = 0
    assert len(api.get("/v1/events").json()["results"]) == 1


def test_events_appended_twice_are_in_the_feed_once(aws, integrator):
    """A crash between publishing and checkpointing, or a retried batch, appends again."""
    from orders.domain.model import Actor
    from portal import container
    from tests.integration.factories import moved, new_order

    order, _, created = new_order(integrator=integrator.slug)
    _, _, cancelled = moved(order, "cancelled", actor=Actor.integrator(integrator.slug))
    feed = container.event_feed()
    feed.append([created, cancelled])
    feed.append([created, cancelled])  # the same batch again
    feed.append([cancelled])

    events, _ = read_all(client_for(integrator), limit=1)

    assert [e["id"] for e in events] == [created.event_id, cancelled.event_id]


class Recorder:
    def __init__(self) -> None:
        self.published: list[str] = []

    def publish(self, messages) -> None:
        self.published.extend(m.event_id for m in messages)


def test_a_relay_replaying_the_stream_from_the_start_adds_no_event_twice(aws, db, settings):
    """Two relays from TRIM_HORIZON, one after the other (a lost checkpoint, a second relay):
    every event is published twice, and is in the feed once."""
    from orders.events.relay import MemoryCheckpoints
    from portal import container

    settings.ORDERS_TABLE_NAME = aws.fresh_table("feedreplay")  # a stream of this test only
    acme = make_integrator("Replay")
    api = client_for(acme)
    first = create(api, external_reference="REPLAY-1")
    create(api, external_reference="REPLAY-2")
    cancel(api, first["id"])

    published = []
    for _ in range(2):
        relay = container.event_relay(checkpoints=MemoryCheckpoints())
        relay._publisher = recorder = Recorder()
        for _ in range(20):
            if not relay.poll().records:
                break
        published.append(recorder.published)

    assert len(published[0]) == 3 and sorted(published[1]) == sorted(published[0])
    events, _ = read_all(api)
    assert [e["id"] for e in events] == published[0]


def test_two_relays_appending_the_same_event_at_once_still_show_it_once(aws, integrator):
    """Both looked for its marker before either wrote it: a page drops the second copy."""
    from portal import container
    from tests.integration.factories import new_order

    _, _, created = new_order(integrator=integrator.slug)
    _, _, other = new_order(integrator=integrator.slug)
    first, second = container.event_feed(), container.event_feed()
    looked_up = first._not_appended([created]), second._not_appended([created])
    assert looked_up == ([created], [created])  # neither found it
    first.append([created, other, created])  # a repeat within one append is dropped too
    second._write_at_once(  # what the second relay's append then writes
        [
            {
                "pk": {"S": f"FEED#{integrator.slug}"},
                "sk": {"S": f"{second._position():020d}"},
                "event_id": {"S": created.event_id},
                "body": {"S": created.body},
                "expires_at": {"N": "9999999999"},
            }
        ]
    )

    events, _ = read_all(client_for(integrator), limit=10)

    assert [e["id"] for e in events] == [created.event_id, other.event_id]


def test_a_restarted_relay_adds_what_its_predecessor_appended_once(aws, integrator):
    """The chunk in flight when a relay died is appended again by the next one: the feed
    finds those events among what its partitions got since they were written."""
    from portal import container
    from tests.integration.factories import new_order

    messages = [new_order(integrator=integrator.slug)[2] for _ in range(5)]
    container.event_feed().append(messages[:3])  # the relay that died
    restarted = container.event_feed()
    restarted.append(messages)  # the replayed chunk, and two events never appended

    events, _ = read_all(client_for(integrator), limit=2)
    assert sorted(e["id"] for e in events) == sorted(m.event_id for m in messages)


def test_events_written_after_the_relay_started_cost_no_read(aws, integrator):
    """Steady state: nothing is read or written to keep the feed free of repeats."""
    from portal import container
    from tests.integration.factories import new_order

    feed = container.event_feed()
    client = feed._client
    calls: list[str] = []
    # Written after the feed started, past the margin allowed for the writers' clocks.
    later = datetime.now(UTC) + timedelta(seconds=CLOCK_MARGIN_SECONDS + 5)

    def count(model, **_):
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb.*", count, unique_id="feed-calls")
    try:
        messages = [new_order(integrator=integrator.slug, created_at=later)[2] for _ in range(3)]
        feed.append(messages)
        feed.append(messages)  # read again by the same relay: remembered
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id="feed-calls")
    assert calls == ["BatchWriteItem"]
    events, _ = read_all(client_for(integrator))
    assert [e["id"] for e in events] == [m.event_id for m in messages]

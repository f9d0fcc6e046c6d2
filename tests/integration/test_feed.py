"""GET /v1/events: an integrator catches up on every event of its orders, from any point."""

from __future__ import annotations

import json

import pytest

from .conftest import client_for, make_integrator
from .factories import EXAMPLE


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

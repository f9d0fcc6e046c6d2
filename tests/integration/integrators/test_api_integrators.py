"""The integrator API: keys, isolation, listing, history, transitions, retries, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.integration.conftest import client_for, make_integrator
from tests.integration.factories import EXAMPLE


def post(client: Client, path: str, body, **headers):
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data=payload, content_type="application/json", headers=headers)


def create(client: Client, **fields) -> dict:
    response = post(client, "/v1/orders", {**EXAMPLE, **fields})
    assert response.status_code == 201, response.content
    return response.json()


# -- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Token abc", "Bearer wop_nonsense_key", "Basic dXNlcjpwYXNz"],
)
def test_requests_without_a_valid_key_are_401_problems(aws, db, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client(**headers).get("/v1/orders")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "key" not in response.json()["detail"].lower() or "wop_" not in response.content.decode()


def test_a_revoked_key_stops_working(aws, integrator):
    from integrators.models import ApiKey
    from integrators.services import revoke_key

    client = client_for(integrator)
    assert client.get("/v1/orders").status_code == 200
    revoke_key(ApiKey.objects.get(integrator__slug=integrator.slug))
    assert client.get("/v1/orders").status_code == 401


# -- isolation -----------------------------------------------------------------------------


def test_an_integrator_sees_and_touches_only_its_own_orders(aws, db):
    alice, bob = make_integrator("Alice"), make_integrator("Bob")
    alice_api, bob_api = client_for(alice), client_for(bob)
    order = create(alice_api)
    path = f"/v1/orders/{order['id']}"

    # Alice: everything. Bob: the order does not exist.
    matrix = [
        ("get", path, None),
        ("get", f"{path}/events", None),
        ("post", f"{path}/transitions", {"to": "cancelled"}),
    ]
    for method, url, body in matrix:
        response = bob_api.get(url) if method == "get" else post(bob_api, url, body)
        assert response.status_code == 404, (method, url)
    assert order["id"] not in [o["id"] for o in bob_api.get("/v1/orders").json()["results"]]
    # The same external reference is free for another integrator.
    assert create(bob_api)["id"] != order["id"]
    assert alice_api.get(path).json()["status"] == "received"  # Bob's cancel did nothing
    assert alice_api.get(f"{path}/events").status_code == 200
    assert post(alice_api, f"{path}/transitions", {"to": "cancelled"}).status_code == 200


# -- listing -------------------------------------------------------------------------------


def test_listing_is_newest_first_with_cursor_pages(api):
    created = [create(api, external_reference=f"L-{i}")["id"] for i in range(5)]
    seen, url = [], "/v1/orders?limit=2"
    while url:
        page = api.get(url).json()
        seen.extend(o["id"] for o in page["results"])
        url = page["next"]
    assert seen == list(reversed(created))


def test_listing_filters_by_status_reference_and_time(api):
    first = create(api, external_reference="F-1")
    second = create(api, external_reference="F-2")
    post(api, f"/v1/orders/{second['id']}/transitions", {"to": "cancelled", "reason": "dup"})

    def ids(query: str) -> list[str]:
        response = api.get(f"/v1/orders?{query}")
        assert response.status_code == 200, response.content
        return [o["id"] for o in response.json()["results"]]

    assert ids("status=cancelled") == [second["id"]]
    assert ids("status=received") == [first["id"]]
    assert ids("status=received&status=cancelled") == [second["id"], first["id"]]
    assert ids("status=received,cancelled") == [second["id"], first["id"]]
    assert ids("external_reference=F-1") == [first["id"]]
    assert ids("external_reference=nope") == []
    created = datetime.fromisoformat(second["created_at"].replace("Z", "+00:00"))
    after = (created - timedelta(microseconds=1)).isoformat()
    assert ids(f"created_after={after.replace('+', '%2B')}") == [second["id"]]
    before = created.isoformat().replace("+", "%2B")
    assert ids(f"created_before={before}") == [first["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("status=lost", "status"),
        ("cursor=garbage", "cursor"),
        ("created_after=yesterday", "created_after"),
        ("colour=red", "colour"),
    ],
)
def test_bad_listing_parameters_are_400s_naming_the_parameter(api, query, field):
    response = api.get(f"/v1/orders?{query}")
    assert response.status_code == 400
    assert any(name.split("[")[0] == field for name in response.json()["errors"])


def test_a_cursor_only_continues_its_own_listing(api):
    for i in range(3):
        create(api, external_reference=f"C-{i}")
    cursor = api.get("/v1/orders?limit=1").json()["next_cursor"]
    assert api.get(f"/v1/orders?limit=1&cursor={cursor}").status_code == 200
    response = api.get(f"/v1/orders?limit=1&status=received&cursor={cursor}")
    assert response.status_code == 400


# -- history and transitions ------------------------------------------------------------------


def test_events_list_the_history(api):
    order = create(api)
    post(api, f"/v1/orders/{order['id']}/transitions", {"to": "cancelled", "reason": "not needed"})
    events = api.get(f"/v1/orders/{order['id']}/events").json()["results"]
    assert [(e["from"], e["to"], e["reason"]) for e in events] == [
        (None, "received", None),
        ("received", "cancelled", "not needed"),
    ]
    assert events[1]["actor"] == {"kind": "integrator", "id": order["integrator"]}


def test_a_transition_with_the_current_etag_succeeds_and_a_stale_one_is_412(api):
    order = create(api)
    url = f"/v1/orders/{order['id']}/transitions"
    stale = post(api, url, {"to": "cancelled"}, **{"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1

    moved = post(api, url, {"to": "cancelled", "reason": "customer called"}, **{"If-Match": '"1"'})
    assert moved.status_code == 200
    assert moved["ETag"] == '"2"'
    assert moved.json()["status"] == "cancelled"
    assert moved.json()["cancellation_reason"] == "customer called"


def test_an_illegal_move_is_409_naming_the_allowed_ones(api):
    order = create(api)
    response = post(api, f"/v1/orders/{order['id']}/transitions", {"to": "completed"})
    assert response.status_code == 409
    assert response.json()["allowed"] == ["cancelled"]
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == 1


@pytest.mark.parametrize("if_match", ["yesterday", '"\u00b2"', "\u00b9"])  # "²", "¹": not ASCII
def test_a_bad_if_match_is_400(api, if_match):
    order = create(api)
    url = f"/v1/orders/{order['id']}/transitions"
    response = post(api, url, {"to": "cancelled"}, **{"If-Match": if_match})
    assert response.status_code == 400
    assert "If-Match" in response.json()["errors"]


def test_an_id_too_long_to_be_an_order_is_404(api):
    # DynamoDB refuses keys over 2048 bytes with an error; the API answers without asking.
    long_id = "x" * 3000
    assert api.get(f"/v1/orders/{long_id}").status_code == 404
    assert api.get(f"/v1/orders/{long_id}/events").status_code == 404
    response = post(api, f"/v1/orders/{long_id}/transitions", {"to": "cancelled"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# -- safe retries ----------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replays_the_first_answer(api):
    body = {**EXAMPLE, "external_reference": "IDEM-1"}
    first = post(api, "/v1/orders", body, **{"Idempotency-Key": "k-1"})
    again = post(api, "/v1/orders", json.dumps(body, indent=2), **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    listed = api.get("/v1/orders?external_reference=IDEM-1").json()["results"]
    assert len(listed) == 1


def test_the_same_idempotency_key_with_another_body_is_422(api):
    post(
        api, "/v1/orders", {**EXAMPLE, "external_reference": "IDEM-2"}, **{"Idempotency-Key": "k-2"}
    )
    response = post(
        api, "/v1/orders", {**EXAMPLE, "external_reference": "IDEM-3"}, **{"Idempotency-Key": "k-2"}
    )
    assert response.status_code == 422
    assert api.get("/v1/orders?external_reference=IDEM-3").json()["results"] == []


def test_a_rejected_request_is_replayed_as_rejected(api):
    bad = {**EXAMPLE, "category": "gardening"}
    first = post(api, "/v1/orders", bad, **{"Idempotency-Key": "k-3"})
    again = post(api, "/v1/orders", bad, **{"Idempotency-Key": "k-3"})
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_keys_of_different_integrators_do_not_collide(aws, db):
    one, two = client_for(make_integrator("One")), client_for(make_integrator("Two"))
    body = {**EXAMPLE, "external_reference": "SAME"}
    assert post(one, "/v1/orders", body, **{"Idempotency-Key": "shared"}).status_code == 201
    second = post(two, "/v1/orders", body, **{"Idempotency-Key": "shared"})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second


def test_a_second_order_with_the_same_reference_is_409_pointing_to_the_first(api):
    first = create(api, external_reference="DUP-1")
    response = post(api, "/v1/orders", {**EXAMPLE, "external_reference": "DUP-1", "title": "Other"})
    assert response.status_code == 409
    assert response.json()["existing_order"] == f"/v1/orders/{first['id']}"


# -- limits ----------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_parsing(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = post(api, "/v1/orders", {**EXAMPLE, "description": "x" * 2000})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_an_integrator_over_its_rate_gets_429_with_retry_after(aws, db, settings):
    settings.API_RATE_LIMIT = "3/minute"
    client = client_for(make_integrator("Busy"))
    statuses = [client.get("/v1/orders").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/v1/orders")
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["status"] == 429
    # Another integrator has its own budget.
    assert client_for(make_integrator("Calm")).get("/v1/orders").status_code == 200


def test_times_are_checked(api):
    now = datetime.now(UTC)
    window = {"start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()}
    response = post(api, "/v1/orders", {**EXAMPLE, "requested_window": window})
    assert response.status_code == 400

"""Creating and reading orders over HTTP: POST /v1/orders (and /v1/order), GET /v1/orders/{id}."""

from __future__ import annotations

import json

import pytest

from tests.integration.factories import EXAMPLE


@pytest.fixture
def received_queue(aws, relay):
    url = aws.status_queue("received")
    aws.drain(url)
    return url


def published(aws, relay, queue: str) -> list[dict]:
    """What reaches the queue once the relay has read what this test committed."""
    relay.poll()
    return aws.drain(queue)


def post(api, body, path="/v1/orders"):
    payload = body if isinstance(body, str) else json.dumps(body)
    return api.post(path, data=payload, content_type="application/json")


def test_the_readme_example_is_created_stored_and_published(api, aws, relay, received_queue):
    response = post(api, EXAMPLE)

    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "received" and order["version"] == 1
    assert {k: order[k] for k in EXAMPLE} == EXAMPLE
    assert response["Location"] == f"/v1/orders/{order['id']}"
    assert response["ETag"] == '"1"'

    fetched = api.get(f"/v1/orders/{order['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "received"
    assert [(h["from"], h["to"]) for h in fetched.json()["history"]] == [(None, "received")]

    messages = published(aws, relay, received_queue)
    assert [json.loads(m["Body"])["subject"] for m in messages] == [order["id"]]
    assert messages[0]["MessageAttributes"]["event_type"]["StringValue"] == "order.created"


def test_the_original_endpoint_is_an_alias(api, aws, received_queue):
    response = post(api, EXAMPLE, path="/v1/order")
    assert response.status_code == 201
    assert api.get(f"/v1/orders/{response.json()['id']}").status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"title": ""}, "title", "blank"),
        ({"title": "x" * 201}, "title", "200"),
        ({"category": "gardening"}, "category", "not one of: hvac, electrical, plumbing, general"),
        ({"priority": "whenever"}, "priority", "is not one of: low, normal, high, urgent"),
        ({"site": None}, "site", "null"),
        ({"external_reference": "bad ref!"}, "external_reference", "letters, digits"),
        ({"contact": {"email": "not-an-email"}}, "contact.email", "valid email"),
        (
            {"requested_window": {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}},
            "requested_window.end",
            "after the start",
        ),
        ({"metadata": {"blob": "x" * 5000}}, "metadata", "4096 bytes"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_invalid_input_is_a_400_naming_the_field_and_nothing_is_stored_or_published(
    api, aws, relay, received_queue, change, field, words
):
    response = post(api, {**EXAMPLE, **change})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert field in problem["errors"], problem
    assert words.lower() in " ".join(problem["errors"][field]).lower(), problem
    assert relay.poll().records == 0  # nothing was written
    assert aws.drain(received_queue) == []


def test_a_missing_required_field_is_named(api, aws, relay, received_queue):
    body = {k: v for k, v in EXAMPLE.items() if k != "category"}
    response = post(api, body)
    assert response.status_code == 400
    assert "required" in response.json()["errors"]["category"][0]
    assert published(aws, relay, received_queue) == []


@pytest.mark.parametrize("payload", ['{"title": ', "[1, 2]", '"just a string"'])
def test_malformed_json_is_a_400(api, aws, relay, received_queue, payload):
    response = post(api, payload)
    assert response.status_code == 400
    assert response.json()["status"] == 400
    assert published(aws, relay, received_queue) == []


def test_unknown_order_is_a_404_problem(api, aws):
    response = api.get("/v1/orders/does-not-exist")
    assert response.status_code == 404
    assert response.json()["title"] == "Not found"


def test_an_unknown_api_url_is_a_404_problem(api, aws):
    response = api.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404

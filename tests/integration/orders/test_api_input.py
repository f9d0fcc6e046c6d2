"""Hostile and sloppy input: no body or header makes the API answer 5xx, values must be of the
type the contract says, and a refused request stores and publishes nothing."""

from __future__ import annotations

import json

import pytest

from orders.domain import rules
from tests.integration.factories import EXAMPLE

# Raw JSON text, not Python strings: a lone surrogate can only arrive as a JSON escape.
LONE_HIGH = "\\ud800"
LONE_LOW = "\\udc00"


def raw_post(
    api, text: str | bytes, path: str = "/v1/orders", content_type="application/json", **headers
):
    return api.post(path, data=text, content_type=content_type, headers=headers)


def order_text(**fields_as_json: str) -> str:
    """The README example as JSON text, with some members given as raw JSON text."""
    members = [
        f"{json.dumps(k)}: {json.dumps(v)}" for k, v in EXAMPLE.items() if k not in fields_as_json
    ]
    members += [f"{json.dumps(k)}: {v}" for k, v in fields_as_json.items()]
    return "{" + ", ".join(members) + "}"


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep: {"a": {"a": ... 1}}."""
    return '{"a": ' * depth + "1" + "}" * depth


def assert_refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    if field is not None:
        assert any(
            name == field or name.startswith(field + ".") or name.startswith(field + "[")
            for name in problem.get("errors", {})
        ), problem
    return problem


def assert_nothing_stored(api, relay) -> None:
    """The integrator has no orders, no event was published, and its feeds still answer.
    (The stream may hold an ``Idempotency-Key`` record: it lives in the same table.)"""
    listing = api.get("/v1/orders")
    assert listing.status_code == 200 and listing.json()["results"] == []
    assert api.get("/v1/events").status_code == 200
    assert relay.poll().published == 0


# -- 1. text that is not valid Unicode ---------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "field"),
    [
        ({"metadata": f'{{"k": "{LONE_HIGH}"}}'}, "metadata.k"),
        ({"metadata": f'{{"{LONE_LOW}": "v"}}'}, "metadata"),
        ({"metadata": f'{{"a": [{{"b": "x{LONE_HIGH}y"}}]}}'}, "metadata.a"),
        ({"title": f'"Fix {LONE_HIGH}"'}, "title"),
        ({"contact": f'{{"name": "{LONE_LOW}"}}'}, "contact.name"),
        ({"metadata": '{"k": "a\\u0000b"}'}, "metadata.k"),
        ({"metadata": '{"a\\u0000": 1}'}, "metadata"),
    ],
    ids=["value", "key", "nested", "title", "contact", "nul-value", "nul-key"],
)
def test_lone_surrogates_and_nul_are_400_naming_the_field_and_nothing_is_stored(
    api, relay, members, field
):
    assert_refused(raw_post(api, order_text(**members)), 400, field)
    assert_nothing_stored(api, relay)


def test_a_surrogate_pair_is_an_ordinary_character(api):
    response = raw_post(api, order_text(metadata='{"mood": "\\ud83d\\ude00"}'))
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    assert api.get(f"/v1/orders/{order_id}").json()["metadata"] == {"mood": "\U0001f600"}


def test_a_lone_surrogate_in_a_transition_reason_is_400(api):
    order = raw_post(api, order_text()).json()
    response = raw_post(
        api,
        f'{{"to": "cancelled", "reason": "{LONE_HIGH}"}}',
        path=f"/v1/orders/{order['id']}/transitions",
    )
    assert_refused(response, 400, "reason")
    assert api.get(f"/v1/orders/{order['id']}").json()["version"] == 1


def test_a_lone_surrogate_in_a_webhook_body_is_400(api):
    response = raw_post(api, f'{{"url": "https://example.com/{LONE_HIGH}"}}', path="/v1/webhooks")
    assert_refused(response, 400, "url")
    assert api.get("/v1/webhooks").json()["results"] == []


# -- 2. nesting --------------------------------------------------------------------------------


@pytest.mark.parametrize("idempotency_key", [None, "deep-1"])
def test_a_body_nested_a_thousand_deep_is_400(api, relay, idempotency_key):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    response = raw_post(api, order_text(metadata=nested(1000)), **headers)
    problem = assert_refused(response, 400)
    assert "deep" in problem["detail"]
    assert_nothing_stored(api, relay)


def test_metadata_deeper_than_the_domain_allows_is_400_naming_metadata(api, relay):
    response = raw_post(api, order_text(metadata=nested(rules.METADATA_MAX_DEPTH + 1)))
    problem = assert_refused(response, 400, "metadata")
    assert str(rules.METADATA_MAX_DEPTH) in " ".join(problem["errors"]["metadata"])
    assert_nothing_stored(api, relay)


def test_metadata_as_deep_as_the_domain_allows_is_kept(api):
    response = raw_post(api, order_text(metadata=nested(rules.METADATA_MAX_DEPTH)))
    assert response.status_code == 201, response.content


# -- 3. If-Match -------------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['"' + "9" * 5000 + '"', "W/" + "1" * 30])
def test_an_if_match_no_order_can_have_is_a_stale_412(api, if_match):
    order = raw_post(api, order_text()).json()
    url = f"/v1/orders/{order['id']}/transitions"
    response = raw_post(api, '{"to": "cancelled"}', path=url, **{"If-Match": if_match})
    problem = assert_refused(response, 412)
    assert problem["current_version"] == 1
    assert len(response.content) < 1000  # the absurd value is not echoed back
    assert api.get(f"/v1/orders/{order['id']}").json()["status"] == "received"


def test_an_if_match_with_leading_zeros_is_still_the_version(api):
    order = raw_post(api, order_text()).json()
    url = f"/v1/orders/{order['id']}/transitions"
    response = raw_post(
        api, '{"to": "cancelled"}', path=url, **{"If-Match": '"' + "0" * 5000 + '1"'}
    )
    assert response.status_code == 200, response.content


# -- 5. strict types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "field"),
    [
        ({"title": "123"}, "title"),
        ({"site": "1.5"}, "site"),
        ({"external_reference": "12345"}, "external_reference"),
        ({"description": "7"}, "description"),
        ({"contact": '{"phone": 5551234}'}, "contact.phone"),
        ({"contact": '{"name": 1}'}, "contact.name"),
        ({"contact": '{"email": 2}'}, "contact.email"),
        ({"title": "true"}, "title"),
        ({"title": '["a"]'}, "title"),
        (
            {"requested_window": '{"start": "2026-12-01T09:00:00", "end": "2026-12-01T10:00:00Z"}'},
            "requested_window.start",
        ),
        (
            {"requested_window": '{"start": "2026-12-01T09:00:00Z", "end": "2026-12-01 10:00"}'},
            "requested_window.end",
        ),
    ],
    ids=[
        "title",
        "site",
        "reference",
        "description",
        "phone",
        "name",
        "email",
        "bool",
        "list",
        "naive-start",
        "naive-end",
    ],
)
def test_a_value_of_the_wrong_type_is_400_naming_the_field(api, relay, members, field):
    assert_refused(raw_post(api, order_text(**members)), 400, field)
    assert_nothing_stored(api, relay)


def test_an_aware_window_is_accepted(api):
    window = '{"start": "2026-12-01T09:00:00+02:00", "end": "2026-12-01T10:00:00Z"}'
    response = raw_post(api, order_text(requested_window=window))
    assert response.status_code == 201, response.content


def test_a_number_as_transition_reason_is_400(api):
    order = raw_post(api, order_text()).json()
    response = raw_post(
        api, '{"to": "cancelled", "reason": 42}', path=f"/v1/orders/{order['id']}/transitions"
    )
    assert_refused(response, 400, "reason")


@pytest.mark.parametrize("parameter", ["created_after", "created_before"])
def test_a_naive_time_in_the_listing_query_is_400(api, parameter):
    assert_refused(api.get(f"/v1/orders?{parameter}=2026-01-01T00:00:00"), 400, parameter)
    assert api.get(f"/v1/orders?{parameter}=2026-01-01T00:00:00Z").status_code == 200


# -- 6. charsets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-7",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
)
def test_json_in_another_charset_than_utf8_is_415_and_nothing_is_stored(api, relay, content_type):
    response = raw_post(api, order_text(title='"Caf\u00e9 +AGE-"'), content_type=content_type)
    assert_refused(response, 415)
    assert_nothing_stored(api, relay)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
    ],
)
def test_json_in_utf8_is_accepted(api, content_type):
    response = raw_post(api, order_text(title='"Caf\u00e9"'), content_type=content_type)
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Caf\u00e9"


@pytest.mark.parametrize("idempotency_key", [None, "bytes-1"])
def test_bytes_that_are_not_utf8_are_400(api, relay, idempotency_key):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    body = order_text(title='"Caf\u00e9"').encode("latin-1")
    assert_refused(raw_post(api, body, **headers), 400)
    assert_nothing_stored(api, relay)


# -- found by the fuzzer over HTTP (tests/e2e/test_fuzz_http.py) ---------------------------------


@pytest.mark.parametrize(
    "path",
    ["/v1/events?after=", "/v1/events?limit=", "/v1/orders?cursor=", "/v1/orders?limit="],
)
def test_a_query_parameter_given_empty_is_400_not_ignored(api, path):
    """``?after=`` is a value, and not a cursor: DRF reads an empty QueryDict value as absent,
    which answered the first page instead."""
    name = path.split("?")[1].rstrip("=")
    assert_refused(api.get(path), 400, name)


@pytest.fixture
def no_dns(settings):
    """Webhook URLs are checked for form only: no look-ups of example host names."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def test_an_empty_delivery_filter_is_400(api, no_dns):
    endpoint = api.post(
        "/v1/webhooks", data={"url": "https://hooks.example.com/x"}, content_type="application/json"
    ).json()
    for query in ("state=", "limit=", "before="):
        response = api.get(f"/v1/webhooks/{endpoint['id']}/deliveries?{query}")
        assert_refused(response, 400, query.rstrip("="))


@pytest.mark.parametrize("value", ["0", "true", "[]"])
def test_a_webhook_description_or_url_that_is_not_a_string_is_400(api, no_dns, value):
    created = raw_post(
        api, f'{{"url": "https://hooks.example.com/x", "description": {value}}}', "/v1/webhooks"
    )
    assert_refused(created, 400, "description")
    assert api.get("/v1/webhooks").json()["results"] == []
    assert_refused(raw_post(api, f'{{"url": {value}}}', "/v1/webhooks"), 400, "url")
    endpoint = api.post(
        "/v1/webhooks", data={"url": "https://hooks.example.com/x"}, content_type="application/json"
    ).json()
    patched = api.patch(
        f"/v1/webhooks/{endpoint['id']}",
        data=f'{{"description": {value}, "enabled": true}}',
        content_type="application/json",
    )
    assert_refused(patched, 400, "description")
    assert api.get(f"/v1/webhooks/{endpoint['id']}").json()["description"] == ""


# -- found by outside testing, round 3 ---------------------------------------------------------


@pytest.mark.parametrize("reference", ["WO-NL\n", " WO-1", "WO-1 ", "WO-\t1", "WO-1\r\n"])
def test_a_reference_with_spaces_or_line_breaks_is_refused_not_trimmed(api, relay, reference):
    response = raw_post(api, order_text(external_reference=json.dumps(reference)))

    problem = assert_refused(response, 400, "external_reference")
    assert "line breaks" in problem["errors"]["external_reference"][0]
    assert_nothing_stored(api, relay)


def test_a_key_given_twice_in_one_object_is_refused(api, relay):
    text = order_text(priority='"low", "priority": "urgent"')

    problem = assert_refused(raw_post(api, text), 400)
    assert "'priority' more than once" in json.dumps(problem), problem
    assert_nothing_stored(api, relay)


def test_a_key_given_twice_inside_metadata_is_refused(api, relay):
    response = raw_post(api, order_text(metadata='{"floor": 1, "floor": 2}'))

    assert_refused(response, 400)
    assert_nothing_stored(api, relay)


def test_if_none_match_answers_304_while_the_order_is_unchanged(api):
    created = api.post("/v1/orders", data=json.dumps(EXAMPLE), content_type="application/json")
    path = f"/v1/orders/{created.json()['id']}"

    for url in (path, f"{path}/events"):
        unchanged = api.get(url, headers={"If-None-Match": '"1"'})
        assert unchanged.status_code == 304 and unchanged["ETag"] == '"1"'
        assert unchanged.content == b""
        assert api.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 304
        assert api.get(url, headers={"If-None-Match": '"7", "1"'}).status_code == 304
        assert api.get(url, headers={"If-None-Match": "*"}).status_code == 304
        assert api.get(url, headers={"If-None-Match": '"2"'}).status_code == 200

    api.post(
        f"{path}/notes", data=json.dumps({"text": "changed"}), content_type="application/json"
    )
    changed = api.get(path, headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed["ETag"] == '"2"'

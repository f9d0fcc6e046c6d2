"""Webhooks against hostile input: malformed URLs are 400s, deliveries go only to the address
that was checked (no parser confusion, no DNS rebinding), and what is sent is a structured
CloudEvent that says so."""

from __future__ import annotations

import json
import socket

import pytest

from tests.integration.conftest import client_for
from tests.webhook_receiver import running_receiver
from webhooks import signing
from webhooks.dispatch import Dispatcher, DispatchSettings
from webhooks.endpoints import create_endpoint
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.recording import WebhookNotifier

from .test_webhooks import event_for

PUBLIC = "93.184.215.14"  # what the test's resolver answers first for hooks.example


@pytest.fixture
def receiver():
    with running_receiver() as running:
        yield running


def strict_dispatcher() -> Dispatcher:
    """The production setting: private addresses refused."""
    return Dispatcher(DispatchSettings(schedule=(0,), jitter=0, timeout_seconds=2))


def stored_endpoint(integrator, url: str) -> WebhookEndpoint:
    """An endpoint saved without the API's checks, as one registered before a check existed
    (or whose host's DNS answer changed since) would be."""
    return WebhookEndpoint.objects.create(
        integrator=integrator.model, url=url, secret=signing.new_secret()
    )


@pytest.fixture
def network(monkeypatch):
    """A resolver and a connect hook the test controls. ``hooks.example`` resolves to the
    public address once, then to 127.0.0.1 (a rebinding attack); a connection to the public
    address is carried to the same port on loopback, where the test's receiver listens.
    ``connects`` records where every socket was asked to connect."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    answers = [PUBLIC]
    connects: list[tuple[str, int]] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "hooks.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = answers.pop(0) if len(answers) > 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    def connect(sock, address):
        connects.append(tuple(address[:2]))
        if address[0] == PUBLIC:
            address = ("127.0.0.1", address[1])
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    answers.append("127.0.0.1")
    return connects


# -- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com:99999/x",
        "http://127.0.0.1:8321\\@93.184.215.14/x",
        "http://user:secret@hooks.example.com/x",
    ],
)
def test_malformed_urls_are_400s_naming_url_on_create_and_update(
    aws, integrator, receiver, settings, url, allow_private
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    api = client_for(integrator)
    created = api.post(
        "/v1/webhooks", data=json.dumps({"url": receiver.url}), content_type="application/json"
    ).json()
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = allow_private

    posted = api.post(
        "/v1/webhooks", data=json.dumps({"url": url}), content_type="application/json"
    )
    patched = api.patch(
        f"/v1/webhooks/{created['id']}",
        data=json.dumps({"url": url}),
        content_type="application/json",
    )

    for response in (posted, patched):
        assert response.status_code == 400, response.content
        assert response["content-type"] == "application/problem+json"
        assert "url" in response.json()["errors"]
    assert api.get(f"/v1/webhooks/{created['id']}").json()["url"] == receiver.url


# -- where deliveries go -------------------------------------------------------------------


def test_a_url_read_two_ways_is_not_delivered_to_loopback(integrator, receiver):
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = stored_endpoint(integrator, f"http://127.0.0.1:{port}\\@{PUBLIC}/x")
    WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)

    assert strict_dispatcher().run_once() == 1

    assert receiver.received == []
    [attempt] = WebhookDelivery.objects.get(endpoint=endpoint).attempts.all()
    assert attempt.status_code is None and "backslash" in attempt.error


def test_delivery_connects_to_the_checked_address_not_a_second_dns_answer(
    integrator, receiver, network
):
    port = int(receiver.url.split(":")[2].split("/")[0])
    stored_endpoint(integrator, f"http://hooks.example:{port}/hooks?x=1")
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)

    assert strict_dispatcher().run_once() == 1

    # Only the checked (public) address was connected to; a second lookup would have said
    # 127.0.0.1, which is never connected to directly.
    assert network == [(PUBLIC, port)]
    [got] = receiver.received
    assert got.headers["host"] == f"hooks.example:{port}"
    assert got.body == event.body
    assert WebhookDelivery.objects.get(event_id=event.id).state == WebhookDelivery.SUCCEEDED


def test_a_host_that_now_resolves_to_loopback_is_refused_at_delivery(integrator, receiver, network):
    port = int(receiver.url.split(":")[2].split("/")[0])
    endpoint = stored_endpoint(integrator, f"http://hooks.example:{port}/hooks")
    socket.getaddrinfo("hooks.example", port)  # the API's check used up the public answer
    WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)

    assert strict_dispatcher().run_once() == 1

    assert receiver.received == [] and network == []
    [attempt] = WebhookDelivery.objects.get(endpoint=endpoint).attempts.all()
    assert "not a public address" in attempt.error


# -- what is sent --------------------------------------------------------------------------


def test_a_delivery_is_a_structured_cloudevent(integrator, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    create_endpoint(integrator.slug, url=receiver.url)
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)
    sender = Dispatcher(DispatchSettings(schedule=(0,), jitter=0, allow_private_urls=True))

    assert sender.run_once() == 1

    [got] = receiver.received
    media_type, _, parameters = got.headers["content-type"].partition(";")
    assert media_type.strip() == "application/cloudevents+json"
    assert parameters.strip().lower() in ("", "charset=utf-8")
    cloudevent = json.loads(got.body)
    # CloudEvents 1.0 structured JSON: the required context attributes, as strings.
    assert cloudevent["specversion"] == "1.0"
    for attribute in ("id", "source", "type"):
        assert isinstance(cloudevent[attribute], str) and cloudevent[attribute]
    assert cloudevent["id"] == event.id == got.headers["webhook-id"]
    assert cloudevent.get("datacontenttype", "application/json") == "application/json"
    assert cloudevent["data"]["order"]["id"] == event.order_id


# -- enabling ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", 1, "1", "yes", "on", False, None])
def test_enabled_accepts_only_the_json_true(aws, integrator, receiver, settings, value):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    api = client_for(integrator)
    created = api.post(
        "/v1/webhooks", data=json.dumps({"url": receiver.url}), content_type="application/json"
    ).json()
    WebhookEndpoint.objects.filter(pk=created["id"]).update(
        disabled_at="2026-01-01T00:00Z", disabled_reason="x"
    )

    response = api.patch(
        f"/v1/webhooks/{created['id']}",
        data=json.dumps({"enabled": value}),
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert "enabled" in response.json()["errors"]
    assert api.get(f"/v1/webhooks/{created['id']}").json()["enabled"] is False


def test_the_schema_says_enabled_can_only_be_true():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    request = schema["paths"]["/v1/webhooks/{endpoint_id}"]["patch"]["requestBody"]
    ref = request["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    enabled = schema["components"]["schemas"][ref]["properties"]["enabled"]
    for part in enabled.get("allOf", ()):  # drf-spectacular names enums as components
        enabled = {**enabled, **schema["components"]["schemas"][part["$ref"].rsplit("/", 1)[1]]}
    assert enabled["enum"] == [True] and enabled["type"] == "boolean"

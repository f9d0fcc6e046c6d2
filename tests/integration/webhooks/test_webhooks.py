"""Webhooks: endpoints over the API, deliveries recorded once, signed POSTs to a real
receiver, retries, disabling, redelivery."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta

import pytest
import standardwebhooks
from django.utils import timezone

from orders.domain.model import Actor
from orders.domain.rules import OrderInput, create_order
from orders.events.contract import parse_event, to_message
from orders.repository.idempotency import PREFIX as IDEMPOTENCY_PREFIX
from orders.repository.idempotency import SK as IDEMPOTENCY_SK
from tests.integration.conftest import client_for, make_integrator
from tests.webhook_receiver import running_receiver
from webhooks import signing
from webhooks.dispatch import Dispatcher, DispatchSettings, redeliver
from webhooks.endpoints import create_endpoint
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.recording import WebhookNotifier


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def receiver():
    with running_receiver() as running:
        yield running


def event_for(integrator: str, status: str = "received"):
    from datetime import UTC, datetime

    order, event = create_order(
        OrderInput(title="Leak", category="plumbing", site="Unit 4"),
        order_id=f"order-{time.monotonic_ns()}",
        integrator=integrator,
        actor=Actor.integrator(integrator),
        now=datetime.now(UTC),
    )
    return parse_event(to_message(event).body)


def dispatcher(schedule=(0, 0)) -> Dispatcher:
    return Dispatcher(
        DispatchSettings(schedule=schedule, jitter=0, allow_private_urls=True, timeout_seconds=2)
    )


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


# -- the API -------------------------------------------------------------------------------


def test_an_integrator_registers_an_endpoint_and_sees_its_secret_once(aws, integrator, receiver):
    api = client_for(integrator)
    created = post(api, "/v1/webhooks", {"url": receiver.url, "statuses": ["scheduled"]})
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["statuses"] == ["scheduled"] and body["enabled"] is True

    listed = api.get("/v1/webhooks").json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/v1/webhooks/{body['id']}").json()


def test_a_replayed_create_never_shows_the_secret_again(aws, integrator, receiver):
    """Retrying a create with its Idempotency-Key answers the endpoint without its secret,
    even once the endpoint is deleted; the stored answer never held the secret."""
    api = client_for(integrator)
    key = f"create-hook-{uuid.uuid4()}"

    def create():
        return api.post(
            "/v1/webhooks",
            data=json.dumps({"url": receiver.url}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first = create()
    assert first.status_code == 201
    secret = first.json()["secret"]
    assert secret.startswith("whsec_") and "Idempotent-Redacted" not in first

    stored = aws.dynamodb.get_item(
        TableName=aws.resources.side_table,
        Key={
            "pk": {"S": f"{IDEMPOTENCY_PREFIX}{integrator.slug}#{key}"},
            "sk": {"S": IDEMPOTENCY_SK},
        },
        ConsistentRead=True,
    )["Item"]
    from orders.repository.packing import unpacked

    assert stored["state"]["S"] == "completed"
    response = unpacked(stored["response"])  # stored compressed
    assert secret not in json.dumps({**stored, "response": response})
    assert json.loads(response)["body"]["secret"] is None

    for _ in ("while it exists", "once it is deleted"):
        replay = create()
        assert replay.status_code == 201
        assert replay["Idempotent-Replayed"] == "true"
        assert replay["Idempotent-Redacted"] == "secret"
        assert replay.json() == {**first.json(), "secret": None}
        assert secret not in replay.content.decode()
        api.delete(f"/v1/webhooks/{first.json()['id']}")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://127.0.0.1/x", "statuses": ["lost"]}, "statuses[0]"),
        ({"url": "http://127.0.0.1/x", "event_types": ["order.deleted"]}, "event_types[0]"),
    ],
)
def test_bad_endpoints_are_400s(aws, integrator, body, field):
    response = post(client_for(integrator), "/v1/webhooks", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_private_addresses_are_refused_unless_allowed(aws, integrator, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    response = post(client_for(integrator), "/v1/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 400
    assert "public" in response.json()["errors"]["url"][0]


def test_endpoints_are_private_to_their_integrator(aws, db, receiver):
    alice, bob = make_integrator("Alice"), make_integrator("Bob")
    endpoint = post(client_for(alice), "/v1/webhooks", {"url": receiver.url}).json()
    bob_api = client_for(bob)
    assert bob_api.get(f"/v1/webhooks/{endpoint['id']}").status_code == 404
    assert bob_api.delete(f"/v1/webhooks/{endpoint['id']}").status_code == 404
    assert bob_api.get(f"/v1/webhooks/{endpoint['id']}/deliveries").status_code == 404
    assert bob_api.get("/v1/webhooks").json()["results"] == []
    assert client_for(alice).delete(f"/v1/webhooks/{endpoint['id']}").status_code == 204


# -- recording -----------------------------------------------------------------------------


def test_each_event_is_recorded_once_per_subscribed_endpoint(integrator, receiver):
    everything = create_endpoint(integrator.slug, url=receiver.url)
    scheduled_only = create_endpoint(integrator.slug, url=receiver.url, statuses=["scheduled"])
    disabled = create_endpoint(integrator.slug, url=receiver.url)
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(
        disabled_reason="x", disabled_at="2026-01-01T00:00Z"
    )
    event = event_for(integrator.slug)
    notifier = WebhookNotifier()

    assert notifier.notify(event, integrator=event.integrator) == 1
    # A duplicate delivery of the same event records nothing new.
    assert notifier.notify(event, integrator=event.integrator) == 0
    deliveries = WebhookDelivery.objects.filter(event_id=event.id)
    assert [d.endpoint_id for d in deliveries] == [everything.pk]
    assert deliveries[0].payload == event.body
    assert not WebhookDelivery.objects.filter(endpoint=scheduled_only).exists()


# -- delivery ------------------------------------------------------------------------------


def test_a_delivery_is_posted_signed_and_logged(integrator, receiver):
    endpoint = create_endpoint(integrator.slug, url=receiver.url)
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)

    assert dispatcher().run_once() == 1

    [got] = receiver.received
    assert got.body == event.body
    assert got.headers["webhook-id"] == event.id
    assert signing.verify(endpoint.secret, got.headers, got.body, now=int(time.time()))
    assert not signing.verify(signing.new_secret(), got.headers, got.body, now=int(time.time()))
    delivery = WebhookDelivery.objects.get(event_id=event.id)
    assert delivery.state == WebhookDelivery.SUCCEEDED
    [attempt] = delivery.attempts.all()
    assert attempt.status_code == 204 and attempt.latency_ms >= 0


def test_the_signature_is_what_the_standard_webhooks_library_verifies(integrator, receiver):
    endpoint = create_endpoint(integrator.slug, url=receiver.url)
    WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)
    dispatcher().run_once()
    [got] = receiver.received
    verified = standardwebhooks.Webhook(endpoint.secret).verify(got.body, got.headers)
    assert verified["type"] == "order.created"


def test_a_failing_receiver_is_retried_then_the_endpoint_is_disabled(integrator, receiver):
    endpoint = create_endpoint(integrator.slug, url=receiver.url)
    receiver.answers = [500]
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)
    sender = dispatcher(schedule=(0, 0))

    for _ in range(3):
        assert sender.run_once() == 1
    assert sender.run_once() == 0

    delivery = WebhookDelivery.objects.get(event_id=event.id)
    assert delivery.state == WebhookDelivery.FAILED
    assert [a.status_code for a in delivery.attempts.all()] == [500, 500, 500]
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert event.id in endpoint.disabled_reason and "HTTP 500" in endpoint.disabled_reason

    # Later events are not even recorded for a disabled endpoint; staff fix it and redeliver.
    assert WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug) == 0
    receiver.answers = [200]
    api = client_for(integrator)
    assert (
        api.patch(
            f"/v1/webhooks/{endpoint.pk}",
            data=json.dumps({"enabled": True}),
            content_type="application/json",
        ).json()["enabled"]
        is True
    )
    redelivered = post(api, f"/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver", {})
    assert redelivered.status_code == 202
    assert sender.run_once() == 1
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.SUCCEEDED
    log = api.get(f"/v1/webhooks/{endpoint.pk}/deliveries").json()["results"]
    assert [a["status_code"] for a in log[0]["attempts"]] == [500, 500, 500, 200]


def test_retries_wait_for_their_time(integrator, receiver):
    create_endpoint(integrator.slug, url=receiver.url)
    receiver.answers = [503]
    event = event_for(integrator.slug)
    WebhookNotifier().notify(event, integrator=event.integrator)
    sender = dispatcher(schedule=(3600,))
    assert sender.run_once() == 1
    assert sender.run_once() == 0  # the next attempt is an hour away
    delivery = WebhookDelivery.objects.get(event_id=event.id)
    assert delivery.state == WebhookDelivery.PENDING and delivery.schedule_step == 1
    redeliver(delivery)
    assert sender.run_once() == 1


def test_a_leased_delivery_is_not_taken_twice(integrator, receiver):
    create_endpoint(integrator.slug, url=receiver.url)
    WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)
    first, second = dispatcher(), dispatcher()
    assert len(first.lease_due(limit=10)) == 1
    assert second.lease_due(limit=10) == []


def test_a_lease_outlasts_the_attempt_deadline(integrator, receiver):
    """A delivery is never attempted by two dispatchers at once: its lease lasts longer
    than its attempt can, even with a timeout beyond the default lease."""
    endpoint = create_endpoint(integrator.slug, url=receiver.url)
    WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)
    sender = Dispatcher(DispatchSettings(schedule=(0,), timeout_seconds=120, lease_seconds=60))
    before = timezone.now()
    assert len(sender.lease_due(limit=10)) == 1
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.next_attempt_at >= before + timedelta(seconds=120 + 30)


def test_the_delivery_log_pages_like_every_list_with_a_next_link_and_a_cursor(integrator, receiver):
    endpoint = create_endpoint(integrator.slug, url=receiver.url)
    notifier = WebhookNotifier()
    for _ in range(5):
        event = event_for(integrator.slug)
        notifier.notify(event, integrator=event.integrator)
    api = client_for(integrator)

    first = api.get(f"/v1/webhooks/{endpoint.pk}/deliveries?limit=2").json()
    second = api.get(first["next"]).json()  # the same query, the next position
    third = api.get(
        f"/v1/webhooks/{endpoint.pk}/deliveries", {"limit": 2, "cursor": second["next_cursor"]}
    ).json()

    ids = [d["id"] for page in (first, second, third) for d in page["results"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)  # newest first, none twice
    assert "limit=2" in first["next"] and third["next"] is None and third["next_cursor"] is None
    assert first["next_before"] == int(first["next_cursor"])  # the older spelling still works
    by_before = api.get(
        f"/v1/webhooks/{endpoint.pk}/deliveries?limit=2&before={first['next_before']}"
    )
    assert by_before.json()["results"] == second["results"]
    assert api.get(f"/v1/webhooks/{endpoint.pk}/deliveries").json()["next"] is None  # 50 a page

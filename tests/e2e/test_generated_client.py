"""The OpenAPI document is a contract a strict generator can build on: a client generated from
the document the running API serves (openapi-python-client: attrs models that refuse a
missing field, an unknown enum value or a malformed date) creates, reads, pages, annotates and
cancels an order, reads the event feed typed, and manages a webhook endpoint."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.support import wait_for

GENERATOR = Path(sys.executable).parent / "openapi-python-client"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture(scope="module")
def generated(portal, tmp_path_factory):
    """The client package, generated from /v1/schema and importable as ``wop_client``."""
    where = tmp_path_factory.mktemp("client")
    document = requests.get(f"{portal.base_url}/v1/schema", timeout=10)
    document.raise_for_status()
    (where / "openapi.yaml").write_text(document.text)
    result = subprocess.run(
        [GENERATOR, "generate", "--path", "openapi.yaml", "--meta", "none"]
        + ["--output-path", "wop_client"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{GENERATOR.parent}:/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module("wop_client")
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == "wop_client" or m.startswith("wop_client.")]:
            del sys.modules[name]


def test_a_generated_client_runs_an_order_and_reads_its_events(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.events import event_feed
    from wop_client.api.orders import (
        add_order_note,
        create_order,
        get_order,
        list_orders,
        transition_order,
    )
    from wop_client.models import (
        Category,
        NoteCreateRequest,
        Order,
        OrderCreateRequest,
        OrderPage,
        OrderStatus,
        Priority,
        Problem,
        TransitionRequest,
    )

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    reference = f"GEN-{uuid.uuid4().hex[:8]}"
    body = OrderCreateRequest(
        title="Replace HVAC filter",
        category=Category.HVAC,
        priority=Priority.HIGH,
        site="Store 12, 5th Ave",
        external_reference=reference,
    )

    created = create_order.sync_detailed(client=client, body=body, idempotency_key=reference)
    assert created.status_code == 201 and isinstance(created.parsed, Order)
    order_id = created.parsed.id
    again = create_order.sync_detailed(client=client, body=body, idempotency_key=reference)
    assert again.parsed.id == order_id  # replayed, typed the same

    def scheduled():
        order = get_order.sync(order_id, client=client)
        return order if order.status is OrderStatus.SCHEDULED else None

    order = wait_for(scheduled, timeout=30, what="the order scheduled")
    assert order.sla.running and [h.to for h in order.history][-1] is OrderStatus.SCHEDULED

    page = list_orders.sync(client=client, limit=1)
    assert isinstance(page, OrderPage) and page.results[0].id == order_id
    if page.next_cursor:
        assert isinstance(
            list_orders.sync(client=client, limit=1, cursor=page.next_cursor), OrderPage
        )

    note = add_order_note.sync(
        order_id, client=client, body=NoteCreateRequest(text="Gate code 4711")
    )
    assert note.text == "Gate code 4711"

    etag = get_order.sync_detailed(order_id, client=client).headers["ETag"]
    cancelled = transition_order.sync(
        order_id,
        client=client,
        body=TransitionRequest(to=OrderStatus.CANCELLED, reason="Duplicate"),
        if_match=etag,
    )
    assert cancelled.status is OrderStatus.CANCELLED

    missing = get_order.sync_detailed(uuid.uuid4(), client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, Problem)

    def our_events():
        events, after = [], None
        while True:
            feed = (
                event_feed.sync(client=client, after=after)
                if after
                else event_feed.sync(client=client)
            )
            events += [e for e in feed.results if str(e.subject) == str(order_id)]
            if not feed.results or feed.next_cursor == after:
                break
            after = feed.next_cursor
        types = [str(e.type_) for e in events]
        return (
            events
            if "order.note_added" in types
            and types[-1] == "order.status_changed"
            and events[-1].data.order.status is OrderStatus.CANCELLED
            else None
        )

    events = wait_for(our_events, timeout=30, what="the order's events in the feed")
    assert events[0].data.transition.from_ is None
    assert {str(e.data.order.id) for e in events} == {str(order_id)}
    noted = next(e for e in events if str(e.type_) == "order.note_added")
    assert noted.data.note.text == "Gate code 4711"


def test_a_generated_client_manages_a_webhook_endpoint(portal, generated):
    from wop_client import AuthenticatedClient
    from wop_client.api.webhooks import (
        create_webhook_endpoint,
        delete_webhook_endpoint,
        list_webhook_deliveries,
        list_webhook_endpoints,
    )
    from wop_client.models import EndpointInputRequest, EventType, OrderStatus

    client = AuthenticatedClient(base_url=portal.base_url, token=portal.key, timeout=15)
    created = create_webhook_endpoint.sync(
        client=client,
        body=EndpointInputRequest(
            url="http://127.0.0.1:9/work-orders",  # the test portal allows local receivers
            statuses=[OrderStatus.SCHEDULED],
            event_types=[EventType.ORDER_STATUS_CHANGED],
        ),
    )
    assert created.secret.startswith("whsec_")
    try:
        listed = list_webhook_endpoints.sync(client=client)
        assert created.id in [e.id for e in listed.results]
        deliveries = list_webhook_deliveries.sync(created.id, client=client)
        assert deliveries.results == []
    finally:
        assert delete_webhook_endpoint.sync_detailed(created.id, client=client).status_code == 204

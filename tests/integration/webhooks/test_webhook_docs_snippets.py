"""Every Python snippet in docs/webhooks.md, run as written on a delivery the portal signed
and POSTed (``webhooks.dispatch``, ``webhooks.signing``) to a real receiver, with the libraries
the page tells integrators to install: a snippet that no longer works on them fails here."""

from __future__ import annotations

import ast
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orders.domain import rules
from orders.domain.model import Actor
from orders.domain.rules import OrderInput
from orders.events.contract import parse_event, to_message
from tests.webhook_receiver import running_receiver
from webhooks import signing
from webhooks.dispatch import Dispatcher, DispatchSettings
from webhooks.endpoints import create_endpoint
from webhooks.recording import WebhookNotifier

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
#: What the page's snippets define, each run by a test below. A new snippet fails
#: test_every_snippet_on_the_page_is_run_here until a test runs it too.
RUN = {"verified_body", "verify_webhook", "receive"}


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.fixture(scope="module")
def documented() -> dict:
    """The page's snippets pasted into one module, in the page's order."""
    namespace: dict = {"__name__": "webhook_receiver_from_the_docs"}
    for snippet in snippets():
        exec(compile(snippet, str(DOC), "exec"), namespace)  # noqa: S102 - our documentation
    return namespace


@dataclass(frozen=True)
class Delivery:
    """A webhook request as the receiver got it."""

    secret: str
    headers: dict[str, str]
    body: bytes
    #: What the portal meant to send.
    event_id: str
    order_id: str
    time: datetime


@pytest.fixture
def delivery(integrator, settings) -> Delivery:
    """An order put on hold, its event recorded for an endpoint and sent by the dispatcher."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the receiver listens on loopback
    now = datetime.now(UTC)
    staff, system = Actor.staff("alice"), Actor.system("worker:test")
    order, _ = rules.create_order(
        OrderInput(title="Leak", category="plumbing", site="Unit 4", priority="urgent"),
        order_id=f"docs-{now.timestamp()}",
        integrator=integrator.slug,
        actor=Actor.integrator(integrator.slug),
        now=now,
    )
    order, _ = rules.move(order, "accepted", actor=system, now=now)
    order, _ = rules.move(order, "scheduled", actor=system, now=now, team="crew")
    held_at = now + timedelta(minutes=5)
    order, event = rules.move(order, "on_hold", actor=staff, now=held_at, reason="Parts")
    with running_receiver() as receiver:
        endpoint = create_endpoint(integrator.slug, url=receiver.url)
        WebhookNotifier().notify(parse_event(to_message(event).body), integrator=integrator.slug)
        sender = Dispatcher(
            DispatchSettings(schedule=(0,), jitter=0, allow_private_urls=True, timeout_seconds=2)
        )
        assert sender.run_once() == 1
    [got] = receiver.received
    # Header names as a web framework hands them over (Flask's, Django's): any case.
    headers = {name.title(): value for name, value in got.headers.items()}
    return Delivery(
        secret=endpoint.secret,
        headers=headers,
        body=got.body.encode("utf-8"),
        event_id=event.id,
        order_id=order.id,
        time=held_at,
    )


def test_every_snippet_on_the_page_is_run_here():
    defined = []
    for snippet in snippets():
        names = {
            node.name
            for node in ast.parse(snippet).body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert names & RUN, f"a snippet no test here runs:\n{snippet}"
        defined.extend(names)
    assert set(defined) == RUN


def test_the_standard_webhooks_snippet_verifies_and_returns_the_event(documented, delivery):
    verified_body = documented["verified_body"]
    event = verified_body(delivery.secret, delivery.headers, delivery.body)
    assert event == json.loads(delivery.body)
    assert event["id"] == delivery.event_id
    assert verified_body(signing.new_secret(), delivery.headers, delivery.body) is None
    assert verified_body(delivery.secret, delivery.headers, delivery.body + b" ") is None


def test_the_plain_python_snippet_verifies_the_delivery(documented, delivery):
    verify_webhook = documented["verify_webhook"]
    text = delivery.body.decode("utf-8")
    assert verify_webhook(delivery.secret, delivery.headers, text)
    assert not verify_webhook(signing.new_secret(), delivery.headers, text)
    # The same request signed an hour ago: a replay.
    replayed = signing.headers(delivery.secret, delivery.event_id, int(time.time()) - 3600, text)
    assert not verify_webhook(delivery.secret, replayed, text)


def test_the_cloudevents_snippet_parses_the_verified_delivery(documented, delivery):
    receive = documented["receive"]
    event = receive(delivery.secret, delivery.headers, delivery.body)

    assert event.get_id() == delivery.event_id == delivery.headers["Webhook-Id"]
    assert event.get_specversion() == "1.0"
    assert event.get_type() == "order.status_changed"
    assert event.get_source() == "urn:work-order-portal:orders"
    assert event.get_subject() == delivery.order_id
    assert event.get_time() == delivery.time
    assert event.get_extension("eventversion") == "1"
    order = event.get_data()["order"]
    assert order["id"] == delivery.order_id and order["status"] == "on_hold"
    assert order["hold"]["reason"] == "Parts" and order["sla_due_at"] is None


def test_the_cloudevents_snippet_refuses_what_the_portal_did_not_sign(documented, delivery):
    receive = documented["receive"]
    assert receive(signing.new_secret(), delivery.headers, delivery.body) is None
    forged = delivery.body.replace(b'"on_hold"', b'"completed"')
    assert receive(delivery.secret, delivery.headers, forged) is None


def test_the_sdk_is_the_2x_one_the_page_describes():
    """The page says 1.x's import is gone: true of the SDK the test extra pins."""
    with pytest.raises(ImportError):
        from cloudevents.http import from_http  # noqa: F401

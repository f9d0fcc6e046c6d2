"""Slow receivers: an attempt ends at its deadline however slowly a receiver trickles its
answer (headers, body or TLS handshake), and no endpoint delays another endpoint's deliveries.

Real servers on loopback, a real dispatcher loop in a thread of its own (its own database
connections); every wait is on a condition, with a deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from tests.integration.conftest import make_integrator
from tests.support import wait_for
from tests.webhook_receiver import running_receiver, running_slow_receiver
from webhooks.dispatch import Dispatcher, DispatchSettings
from webhooks.endpoints import create_endpoint
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.recording import WebhookNotifier

from .test_webhooks import event_for

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5.0  # WEBHOOK_TIMEOUT_SECONDS' default
#: How late another endpoint's delivery may be: the dispatcher's idle pause and the attempt
#: itself, with room for a busy machine; well under the slow attempts' deadline.
PROMPT = 3.0


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@contextmanager
def dispatching(**settings) -> Iterator[Dispatcher]:
    """A dispatcher's run loop in a thread, as ``deliver_webhooks`` runs it; stopped (and
    its attempts in flight ended) on leaving."""
    dispatcher = Dispatcher(
        DispatchSettings(
            schedule=(3600,),
            jitter=0,
            allow_private_urls=True,
            timeout_seconds=TIMEOUT,
            **settings,
        )
    )
    stop = threading.Event()

    def run() -> None:
        try:
            dispatcher.run(stop, idle_seconds=0.05)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="dispatcher", daemon=True)
    thread.start()
    try:
        yield dispatcher
    finally:
        stop.set()
        thread.join(timeout=TIMEOUT + 20)
        assert not thread.is_alive(), "the dispatcher did not stop"


def attempts_of(delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return list(WebhookAttempt.objects.filter(delivery_id=delivery.pk))


def deliver_later(receiver_url: str) -> float:
    """Record an order.created for a new integrator's endpoint at ``receiver_url``; when."""
    bob = make_integrator("Bob")
    create_endpoint(bob.slug, url=receiver_url)
    recorded = time.monotonic()
    WebhookNotifier().notify(event_for(bob.slug), integrator=bob.slug)
    return recorded


def test_slow_receivers_delay_no_other_integrator_and_are_cut_at_the_deadline():
    """A receiver trickling its headers and one trickling its body, a byte every 0.2 s,
    hold their own attempts for the deadline (5 s) only; meanwhile another integrator's
    order.created reaches its fast receiver at once."""
    with ExitStack() as servers:
        slow_headers = servers.enter_context(running_slow_receiver("headers"))
        slow_body = servers.enter_context(running_slow_receiver("body"))
        fast = servers.enter_context(running_receiver())
        alice = make_integrator("Alice")
        for slow in (slow_headers, slow_body):
            create_endpoint(alice.slug, url=slow.url)
        WebhookNotifier().notify(event_for(alice.slug), integrator=alice.slug)
        slow_deliveries = list(WebhookDelivery.objects.filter(endpoint__integrator=alice.model))
        assert len(slow_deliveries) == 2

        with dispatching():
            wait_for(
                lambda: slow_headers.hanging == 1 and slow_body.hanging == 1,
                timeout=10,
                what="both slow receivers to be answering",
            )
            recorded = deliver_later(fast.url)
            wait_for(lambda: fast.received, timeout=PROMPT, what="the fast receiver's delivery")
            delay = time.monotonic() - recorded

            # It arrived while the slow attempts were still hanging.
            assert slow_headers.hanging == 1 and slow_body.hanging == 1
            assert all(attempts_of(d) == [] for d in slow_deliveries)
            assert delay < PROMPT

            # Both slow attempts end at the deadline, as failed timeouts, to be retried.
            attempts = wait_for(
                lambda: (
                    all(attempts_of(d) for d in slow_deliveries)
                    and [attempts_of(d)[0] for d in slow_deliveries]
                ),
                timeout=TIMEOUT + 10,
                what="the slow attempts to be recorded",
            )
        by_url = {a.delivery.endpoint.url: a for a in attempts}
        for slow, stage in ((slow_headers, "headers"), (slow_body, "body")):
            attempt = by_url[slow.url]
            assert attempt.status_code is None and not attempt.succeeded
            assert attempt.error == (
                f"Timeout: no complete answer within 5 s; cut off while reading the response "
                f"{stage}"
            )
            assert TIMEOUT * 1000 - 50 <= attempt.latency_ms < (TIMEOUT + 2) * 1000
            delivery = attempt.delivery
            delivery.refresh_from_db()
            assert delivery.state == WebhookDelivery.PENDING and delivery.schedule_step == 1
            assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=59)
            # The receiver saw its connection closed.
            wait_for(lambda s=slow: s.cut == 1, timeout=5, what="the slow connection closed")


def test_one_endpoint_occupies_at_most_its_share_of_the_dispatcher():
    """A slow endpoint with a backlog gets at most its share of the threads (2 of 4), so
    another endpoint's delivery still starts at once."""
    with ExitStack() as servers:
        slow = servers.enter_context(running_slow_receiver("headers"))
        fast = servers.enter_context(running_receiver())
        alice = make_integrator("Alice")
        create_endpoint(alice.slug, url=slow.url)
        notifier = WebhookNotifier()
        for _ in range(6):
            notifier.notify(event_for(alice.slug), integrator=alice.slug)

        with dispatching(concurrency=4, endpoint_concurrency=2):
            wait_for(lambda: slow.hanging >= 2, timeout=10, what="slow answers")
            recorded = deliver_later(fast.url)
            wait_for(lambda: fast.received, timeout=PROMPT, what="the fast receiver's delivery")
            delay = time.monotonic() - recorded
            assert slow.hanging == 2 and slow.most_hanging == 2
            assert delay < PROMPT
        # Stopping let the two attempts end at their deadline and started no other.
        assert slow.most_hanging == 2 and slow.requests == 2
        wait_for(lambda: slow.cut == 2, timeout=5, what="the slow connections closed")


def test_a_receiver_trickling_its_tls_handshake_is_cut_at_the_deadline(integrator):
    with running_slow_receiver("tls") as slow:
        create_endpoint(integrator.slug, url=slow.url)
        WebhookNotifier().notify(event_for(integrator.slug), integrator=integrator.slug)
        dispatcher = Dispatcher(
            DispatchSettings(schedule=(3600,), jitter=0, allow_private_urls=True, timeout_seconds=2)
        )
        assert dispatcher.run_once() == 1
        [attempt] = WebhookAttempt.objects.filter(delivery__endpoint__url=slow.url)
        assert attempt.error == "Timeout: no complete answer within 2 s; cut off while connecting"
        assert 1950 <= attempt.latency_ms < 4000
        wait_for(lambda: slow.cut == 1, timeout=5, what="the slow connection closed")

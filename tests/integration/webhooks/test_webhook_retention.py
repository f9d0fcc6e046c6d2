"""Finished webhook deliveries are deleted once past their retention, with their attempts;
pending ones and recent ones stay (the dispatcher prunes once an interval, and a command)."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.integration.conftest import make_integrator
from webhooks.dispatch import Dispatcher, DispatchSettings
from webhooks.endpoints import create_endpoint
from webhooks.models import WebhookAttempt, WebhookDelivery


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def delivery(endpoint, state: str, *, age_days: float) -> WebhookDelivery:
    made = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4().hex,
        event_type="order.status_changed",
        order_id=str(uuid.uuid4()),
        status="scheduled",
        payload="{}",
        state=state,
    )
    # created_at is auto_now_add: backdate it as if the event had happened then.
    at = timezone.now() - timedelta(days=age_days)
    WebhookDelivery.objects.filter(pk=made.pk).update(created_at=at)
    WebhookAttempt.objects.create(delivery=made, attempted_at=at, status_code=200, latency_ms=5)
    return made


@pytest.fixture
def deliveries(db):
    endpoint = create_endpoint(make_integrator().slug, url="http://127.0.0.1:9/hooks")
    return {
        "old succeeded": delivery(endpoint, WebhookDelivery.SUCCEEDED, age_days=40),
        "old failed": delivery(endpoint, WebhookDelivery.FAILED, age_days=40),
        "old pending": delivery(endpoint, WebhookDelivery.PENDING, age_days=40),
        "recent succeeded": delivery(endpoint, WebhookDelivery.SUCCEEDED, age_days=2),
    }


def kept(deliveries) -> set[str]:
    ids = set(WebhookDelivery.objects.values_list("pk", flat=True))
    return {name for name, d in deliveries.items() if d.pk in ids}


def test_the_dispatcher_prunes_finished_deliveries_past_their_retention(deliveries):
    dispatcher = Dispatcher(
        DispatchSettings(schedule=(0,), allow_private_urls=True, retention=timedelta(days=30))
    )

    assert dispatcher.prune() == 2

    assert kept(deliveries) == {"old pending", "recent succeeded"}
    assert not WebhookAttempt.objects.filter(
        delivery_id__in=[deliveries["old succeeded"].pk, deliveries["old failed"].pk]
    ).exists()


def test_the_command_prunes_with_the_settings_retention_or_its_own(deliveries, settings):
    settings.WEBHOOK_RETENTION_DAYS = 0
    out = io.StringIO()
    call_command("prune_webhooks", stdout=out)
    assert "retention is off" in out.getvalue() and len(kept(deliveries)) == 4

    call_command("prune_webhooks", "--days", "1", stdout=out)
    assert "pruned 3 finished deliveries" in out.getvalue()
    assert kept(deliveries) == {"old pending"}

"""The status workers' side: one delivery per subscribed endpoint and event, recorded once."""

from __future__ import annotations

import logging

from django.db import IntegrityError
from django.utils import timezone

from orders.events.contract import ReceivedEvent
from webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)


class WebhookNotifier:
    """Records deliveries for the dispatcher; never calls out itself, so a slow or broken
    receiver cannot hold up a status queue."""

    def notify(self, event: ReceivedEvent, *, integrator: str) -> int:
        """Record a delivery per endpoint of ``integrator`` that wants this event. Workers
        pass the stored order's integrator, after checking the event against the order: never
        the one the body names."""
        endpoints = WebhookEndpoint.objects.filter(
            integrator__slug=integrator, disabled_at__isnull=True
        )
        recorded = 0
        for endpoint in endpoints:
            if not endpoint.wants(status=event.status, event_type=event.type):
                continue
            # Unique per (endpoint, event): a redelivered event records nothing new.
            try:
                _, created = WebhookDelivery.objects.get_or_create(
                    endpoint=endpoint,
                    event_id=event.id,
                    defaults={
                        "event_type": event.type,
                        "order_id": event.order_id,
                        "status": event.status,
                        "payload": event.body,
                        "next_attempt_at": timezone.now(),
                    },
                )
            except IntegrityError:
                if WebhookEndpoint.objects.filter(pk=endpoint.pk).exists():
                    raise
                log.info("webhook endpoint %s was deleted meanwhile: skipped", endpoint.pk)
                continue
            recorded += created
        log.info(
            "order %s is %s (event %s): %d webhook deliveries recorded for %s",
            event.order_id,
            event.status,
            event.id,
            recorded,
            integrator,
        )
        return recorded

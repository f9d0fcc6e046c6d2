"""How long finished webhook deliveries (and their attempts) are kept.

Every event for every subscribed endpoint leaves a delivery row and one row per attempt, so
without a limit the table only grows. Finished ones (succeeded, or failed after the whole
retry schedule) older than ``WEBHOOK_RETENTION_DAYS`` are deleted in batches: by the
dispatcher once an interval (``WEBHOOK_PRUNE_INTERVAL_SECONDS``) and by
``python manage.py prune_webhooks``. Pending deliveries are never touched.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from webhooks.models import WebhookAttempt, WebhookDelivery

log = logging.getLogger(__name__)

FINISHED = (WebhookDelivery.SUCCEEDED, WebhookDelivery.FAILED)


def prune(*, older_than: timedelta, now: datetime, batch: int = 1000) -> int:
    """Delete finished deliveries created before ``now - older_than``; how many went."""
    cutoff = now - older_than
    removed = 0
    while True:
        ids = list(
            WebhookDelivery.objects.filter(state__in=FINISHED, created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            break
        with transaction.atomic():
            WebhookAttempt.objects.filter(delivery_id__in=ids).delete()
            # Re-checked: one an admin redelivered meanwhile is pending again and stays.
            WebhookDelivery.objects.filter(id__in=ids, state__in=FINISHED).delete()
        removed += len(ids)
    if removed:
        log.info("pruned %s finished webhook deliveries older than %s", removed, cutoff)
    return removed

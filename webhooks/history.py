"""What staff read of an order's webhooks: the deliveries recorded for it, newest first, with
their endpoint and attempts (the order's admin page reaches this through ``portal.container``)."""

from __future__ import annotations

from collections.abc import Sequence

from webhooks.models import WebhookDelivery

#: Deliveries an order's page lists (the newest).
SHOWN = 50


def deliveries_for_order(order_id: str, *, limit: int = SHOWN) -> Sequence[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(order_id=order_id)
        .select_related("endpoint")
        .prefetch_related("attempts")[:limit]
    )

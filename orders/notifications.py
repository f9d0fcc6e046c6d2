"""Telling integrators and teams about status changes.

Until signed webhooks land (the integrator API issue) this only logs what would be sent.
"""

from __future__ import annotations

import logging

from orders.domain.model import Order

log = logging.getLogger(__name__)


class LoggingNotifier:
    def notify(self, order: Order, *, status: str, event_id: str) -> None:
        log.info(
            "notify integrator %s and team %s: order %s is %s (event %s)",
            order.integrator,
            order.assigned_team or "-",
            order.id,
            status,
            event_id,
        )

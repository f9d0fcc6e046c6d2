"""The values the webhooks API names: the order's statuses and the event types an endpoint
may filter on, from the orders' domain (the same lists, so the same enum components, as the
orders API's)."""

from __future__ import annotations

from orders.domain.model import EventType
from orders.domain.workflow import STATUSES

STATUS_CHOICES = [str(s) for s in STATUSES]
EVENT_TYPE_CHOICES = [t.value for t in EventType]

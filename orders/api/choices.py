"""The values the orders API names, one list each, from the domain. Every field with the same
choices shares one enum component of the OpenAPI document (SPECTACULAR_SETTINGS'
ENUM_NAME_OVERRIDES names them): one OrderStatus, not StatusEnum, ToEnum and FromEnum."""

from __future__ import annotations

from orders.domain.model import CATEGORIES, EventType, Priority, Visibility
from orders.domain.workflow import STATUSES, ActorKind

STATUS_CHOICES = [str(s) for s in STATUSES]
CATEGORY_CHOICES = list(CATEGORIES)
PRIORITY_CHOICES = [p.value for p in Priority]
ACTOR_KIND_CHOICES = [k.value for k in ActorKind]
VISIBILITY_CHOICES = [v.value for v in Visibility]
#: What an integrator's events can be (internal ones never reach it).
EVENT_VISIBILITY_CHOICES = [Visibility.PUBLIC.value]
EVENT_TYPE_CHOICES = [t.value for t in EventType]

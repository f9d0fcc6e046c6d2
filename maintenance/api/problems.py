"""The plans' own problem documents (the rest are answered by kind: ``PlanNotFound`` is any
404 ``not-found``). Imported for its registrations by ``maintenance.api.urls``."""

from __future__ import annotations

from rest_framework import status

from apikit.problems import register
from maintenance.domain.errors import OccurrenceTaken, PlanArchived, StalePlan

register(
    StalePlan,
    status.HTTP_412_PRECONDITION_FAILED,
    "stale-version",
    "Plan changed",
    extra=lambda e: {"current_version": e.current_version},
)
register(PlanArchived, status.HTTP_409_CONFLICT, "plan-archived", "Plan archived")
register(OccurrenceTaken, status.HTTP_409_CONFLICT, "occurrence-taken", "Occurrence handled")

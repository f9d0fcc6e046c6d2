"""The maintenance plans API's URLs (included under /v1/ by portal.urls)."""

from django.urls import path

from . import problems  # noqa: F401 - the plans' problem documents, before any request
from .views import (
    OccurrenceListView,
    OccurrenceSkipView,
    OccurrenceUnskipView,
    PlanArchiveView,
    PlanCollectionView,
    PlanDetailView,
    PlanPauseView,
    PlanRestoreView,
    PlanResumeView,
)

PLAN = "maintenance-plans/<str:plan_id>"
urlpatterns = [
    path("maintenance-plans", PlanCollectionView.as_view(), name="plans"),
    path(PLAN, PlanDetailView.as_view(), name="plan-detail"),
    path(f"{PLAN}/pause", PlanPauseView.as_view(), name="plan-pause"),
    path(f"{PLAN}/resume", PlanResumeView.as_view(), name="plan-resume"),
    path(f"{PLAN}/archive", PlanArchiveView.as_view(), name="plan-archive"),
    path(f"{PLAN}/restore", PlanRestoreView.as_view(), name="plan-restore"),
    path(f"{PLAN}/occurrences", OccurrenceListView.as_view(), name="plan-occurrences"),
    path(f"{PLAN}/occurrences/skip", OccurrenceSkipView.as_view(), name="plan-skip"),
    path(f"{PLAN}/occurrences/unskip", OccurrenceUnskipView.as_view(), name="plan-unskip"),
]

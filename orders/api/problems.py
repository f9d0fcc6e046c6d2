"""The orders' own problem documents: the errors whose answer says more than their kind
(``apikit.problems`` answers ``OrderNotFound`` as any ``NotFound``, a 404 ``not-found``).

Imported for its registrations by ``orders.api.urls`` (so before any request reaches the API)
and by the views. The ``members`` document each extension member in the OpenAPI document's
``Problem`` component; they are registered in the order that component lists them.
"""

from __future__ import annotations

from rest_framework import serializers, status

from apikit.problems import register
from orders.attachments import UploadMissing, UploadNotFound
from orders.domain.errors import (
    ConcurrencyConflict,
    DuplicateReference,
    IllegalTransition,
    OrderAlreadyExists,
)

from .choices import STATUS_CHOICES

register(
    IllegalTransition,
    status.HTTP_409_CONFLICT,
    "illegal-transition",
    "Transition not allowed",
    extra=lambda e: {"allowed": e.allowed},
    members={
        "allowed": serializers.ListField(
            child=serializers.ChoiceField(choices=STATUS_CHOICES),
            required=False,
            help_text="`illegal-transition`: the statuses the caller may move the order to now.",
        )
    },
)
register(
    ConcurrencyConflict,
    status.HTTP_412_PRECONDITION_FAILED,
    "stale-version",
    "Order changed",
    extra=lambda e: {"current_version": e.actual_version},
    members={
        "current_version": serializers.IntegerField(
            required=False, help_text="`stale-version`: the order's version now (its ETag)."
        )
    },
)
register(
    DuplicateReference,
    status.HTTP_409_CONFLICT,
    "duplicate-reference",
    "Duplicate external reference",
    extra=lambda e: {"existing_order": f"/v1/orders/{e.order_id}"},
    members={
        "existing_order": serializers.CharField(
            required=False,
            help_text="`duplicate-reference`: the path of the order that has the reference.",
        )
    },
)
register(OrderAlreadyExists, status.HTTP_409_CONFLICT, "conflict", "Already exists")
register(
    UploadMissing,
    status.HTTP_409_CONFLICT,
    "upload-missing",
    "Nothing uploaded yet",
    extra=lambda e: {"upload_id": e.upload_id, "errors": {"upload_id": [str(e)]}},
)
# An upload that is not the caller's: as if it did not exist.
register(UploadNotFound, status.HTTP_404_NOT_FOUND, "not-found", "Not found")

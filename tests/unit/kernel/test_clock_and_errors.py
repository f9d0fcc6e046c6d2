"""The kernel's wire form of times and its kinds of refusal, which every context shares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kernel import errors
from kernel.clock import isoformat, utcnow
from orders.domain import errors as order_errors


def test_times_are_written_in_utc_with_microseconds_and_z():
    madrid = timezone(timedelta(hours=1))
    assert isoformat(datetime(2026, 12, 7, 10, 0, tzinfo=madrid)) == "2026-12-07T09:00:00.000000Z"
    assert isoformat(None) is None


def test_written_times_sort_as_the_times_do():
    earlier = datetime(2026, 1, 1, 9, 0, 0, 5, tzinfo=UTC)
    later = earlier + timedelta(microseconds=10)
    assert isoformat(earlier) < isoformat(later)


def test_now_is_aware_and_in_utc():
    assert utcnow().tzinfo is UTC


def test_a_validation_error_names_each_field_and_its_problems():
    error = errors.ValidationError({"title": ("Required.",), "site": ["Too long.", "Empty."]})
    assert error.errors == {"title": ["Required."], "site": ["Too long.", "Empty."]}
    assert str(error) == "title: Required.; site: Too long., Empty."


@pytest.mark.parametrize(
    ("order_error", "kind"),
    [
        (order_errors.OrderNotFound("o-1"), errors.NotFound),
        (order_errors.OrderAlreadyExists("o-1"), errors.Conflict),
        (order_errors.DuplicateReference(order_id="o-1", external_reference="R"), errors.Conflict),
        (
            order_errors.IllegalTransition(
                from_status="received", to_status="completed", actor_kind="staff", allowed=[]
            ),
            errors.Conflict,
        ),
    ],
)
def test_each_refusal_of_an_order_is_one_of_the_kernels_kinds(order_error, kind):
    """Adapters answer by kind (404, 409...) without knowing the order's errors by name."""
    assert isinstance(order_error, kind)
    assert isinstance(order_error, errors.DomainError)


def test_the_orders_shared_refusals_are_the_kernels_own():
    assert order_errors.ValidationError is errors.ValidationError
    assert order_errors.InvalidCursor is errors.InvalidCursor
    assert order_errors.PermissionDenied is errors.PermissionDenied

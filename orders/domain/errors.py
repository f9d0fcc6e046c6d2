"""The order's refusals, as exceptions the adapters map. Each is one of the kernel's kinds
(``kernel.errors``); the kernel's own are re-exported, being the order's refusals too."""

from __future__ import annotations

from collections.abc import Iterable

from kernel.errors import (
    Conflict,
    DomainError,
    InvalidCursor,
    NotFound,
    PermissionDenied,
    ValidationError,
)

__all__ = [
    "ConcurrencyConflict",
    "DomainError",
    "DuplicateReference",
    "IllegalTransition",
    "InvalidCursor",
    "OrderAlreadyExists",
    "OrderNotFound",
    "PermissionDenied",
    "ValidationError",
]


class IllegalTransition(Conflict):
    """The workflow table does not allow this move for this actor."""

    def __init__(
        self, *, from_status: str, to_status: str, actor_kind: str, allowed: Iterable[str]
    ):
        self.from_status = from_status
        self.to_status = to_status
        self.actor_kind = actor_kind
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) or "none"
        super().__init__(
            f"{actor_kind} cannot move an order from {from_status!r} to {to_status!r}; "
            f"allowed: {allowed_text}"
        )


class OrderNotFound(NotFound):
    def __init__(self, order_id: str):
        self.order_id = order_id
        super().__init__(f"order {order_id!r} does not exist")


class OrderAlreadyExists(Conflict):
    def __init__(self, order_id: str):
        self.order_id = order_id
        super().__init__(f"order {order_id!r} already exists")


class DuplicateReference(Conflict):
    """The integrator already has an order with this external reference."""

    def __init__(self, *, order_id: str, external_reference: str):
        self.order_id = order_id
        self.external_reference = external_reference
        super().__init__(
            f"external_reference {external_reference!r} is already used by order {order_id}"
        )


class ConcurrencyConflict(DomainError):
    """The order changed since it was read: status or version no longer match.

    Says which, so a caller can tell "someone moved it" from "someone edited it".
    """

    def __init__(
        self,
        *,
        order_id: str,
        expected_status: str,
        expected_version: int,
        actual_status: str | None,
        actual_version: int | None,
    ):
        self.order_id = order_id
        self.expected_status = expected_status
        self.expected_version = expected_version
        self.actual_status = actual_status
        self.actual_version = actual_version
        mismatches = []
        if actual_status != expected_status:
            mismatches.append(f"status is {actual_status!r}, expected {expected_status!r}")
        if actual_version != expected_version:
            mismatches.append(f"version is {actual_version}, expected {expected_version}")
        super().__init__(f"order {order_id!r} changed: " + "; ".join(mismatches or ["unknown"]))

    @property
    def status_changed(self) -> bool:
        return self.actual_status != self.expected_status

    @property
    def version_changed(self) -> bool:
        return self.actual_version != self.expected_version

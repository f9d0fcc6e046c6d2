"""Intake and moves: an order created, moved along the workflow, corrected, or taken off hold
(by an integrator through the API, or by staff in the admin)."""

from __future__ import annotations

from kernel import log_context, metrics
from orders.domain import rules
from orders.domain.errors import DuplicateReference, OrderAlreadyExists, ValidationError
from orders.domain.model import (
    Actor,
    MaintenanceRef,
    Order,
    PlaceRef,
    new_order_id,
    reference_order_id,
)
from orders.domain.rules import OrderInput
from orders.events.contract import to_message

from .changes import OrderChanges, require_version
from .ports import NoPlaces, PlaceDirectory


class OrderIntake:
    def __init__(self, changes: OrderChanges, *, places: PlaceDirectory | None = None):
        self._changes = changes
        self._store = changes.store
        self._places = places or NoPlaces()

    def create_order(
        self,
        *,
        data: OrderInput,
        integrator: str,
        actor: Actor,
        order_id: str | None = None,
        site_id: str | None = None,
        asset_id: str | None = None,
        maintenance: MaintenanceRef | None = None,
    ) -> Order:
        """Store a new order in ``received``. An external reference is unique per integrator:
        a second order with it is refused with :class:`DuplicateReference`.

        ``site_id`` / ``asset_id``: the integrator's site and asset the work is at, checked
        (``PlaceDirectory.resolve``) before anything is stored; every refusal of the request
        comes at once, theirs with the fields'. ``maintenance``: the plan occurrence that
        creates it (the scheduler passes a deterministic ``order_id`` with it)."""
        if order_id is None:
            order_id = (
                reference_order_id(integrator, data.external_reference)
                if data.external_reference
                else new_order_id()
            )
        site_ref, asset_ref = self._places_of(data, integrator, site_id, asset_id)
        order, event = rules.create_order(
            data,
            order_id=order_id,
            integrator=integrator,
            actor=actor,
            now=self._changes.clock(),
            site_ref=site_ref,
            asset_ref=asset_ref,
            maintenance=maintenance,
        )
        try:
            # Stored with its event in one write; the event relay publishes it from the stream.
            self._store.add(order, to_message(event))
        except OrderAlreadyExists:
            if order.external_reference:
                raise DuplicateReference(
                    order_id=order.id, external_reference=order.external_reference
                ) from None
            raise
        metrics.ORDERS_CREATED.labels(str(actor.kind)).inc()
        log_context.set_field("order_id", order.id)
        return order

    def _places_of(
        self, data: OrderInput, integrator: str, site_id: str | None, asset_id: str | None
    ) -> tuple[PlaceRef | None, PlaceRef | None]:
        """The site and asset the ids name; refused together with whatever else is wrong
        with ``data`` (whose ``site`` a named place makes optional)."""
        if site_id is None and asset_id is None:
            return None, None
        try:
            return self._places.resolve(integrator, site_id=site_id, asset_id=asset_id)
        except ValidationError as refused:
            problems = refused.errors
        try:
            rules.validate_input(data, site_default="")
        except ValidationError as invalid:
            problems = {**invalid.errors, **problems}
        raise ValidationError(problems) from None

    def transition_order(
        self,
        *,
        order_id: str,
        to: str,
        actor: Actor,
        reason: str | None = None,
        expected_version: int | None = None,
        team: str | None = None,
        integrator: str | None = None,
    ) -> Order:
        """Move an order as ``actor``; with ``expected_version`` the move is refused
        (:class:`ConcurrencyConflict`) if the order changed since the caller read it.
        Without, a change that lands first does not refuse it: the move is checked again
        against the order as it is now and made if the workflow allows it."""

        def move(order: Order) -> Order:
            moved, _ = self._changes.move(order, to, actor=actor, reason=reason, team=team)
            return moved

        return self._changes.changing(
            order_id, move, integrator=integrator, expected_version=expected_version
        )

    def update_order(
        self, *, order_id: str, changes: dict, expected_version: int, actor: Actor
    ) -> Order:
        """Correct an open order's details if it is still at ``expected_version``
        (:class:`ConcurrencyConflict` otherwise: the caller shows what changed)."""
        order = self._store.get(order_id)
        require_version(order, expected_version)
        edited, event = rules.edit(
            order,
            changes,
            actor=actor,
            now=self._changes.clock(),
            calendar=self._changes.calendar(order),
        )
        self._store.save_move(
            edited,
            to_message(event),
            expected_status=order.status,
            expected_version=order.version,
        )
        return edited

    def resume_order(
        self, *, order_id: str, actor: Actor, expected_version: int | None = None
    ) -> Order:
        """Take an order off hold, back to the status it was held from."""

        def resume(order: Order) -> Order:
            held = order.hold
            if held is None or held.from_status is None:
                raise ValidationError({"status": [f"A {order.status} order is not on hold."]})
            moved, _ = self._changes.move(order, held.from_status, actor=actor)
            return moved

        return self._changes.changing(
            order_id, resume, integrator=None, expected_version=expected_version
        )

"""The orders' side of ``maintenance.ports.OrderMaker``: a plan's occurrence becomes an order
through the same use case the API calls (``OrderIntake.create_order``), as the scheduler, at
the plan's site and asset, marked with the plan and the occurrence. The container builds it
(``portal.container.plan_orders``); the plans never import the orders' services."""

from __future__ import annotations

from collections.abc import Mapping

from kernel.errors import ValidationError
from maintenance.ports import PlannedOrder
from orders.domain.errors import OrderAlreadyExists
from orders.domain.model import Actor, MaintenanceRef, TimeWindow
from orders.domain.rules import OrderInput, validate_input
from orders.services import OrderServices

#: Who the orders' history says created a plan's order.
SCHEDULER = Actor.system("scheduler")


class PlanOrders:
    def __init__(self, services: OrderServices):
        self._services = services

    def check_template(self, template: Mapping[str, str]) -> None:
        """The template's fields checked by the orders' own rules (a placeholder site: the
        plan's place is checked by the plans)."""
        try:
            validate_input(
                OrderInput(
                    title=template.get("title", ""),
                    category=template.get("category", ""),
                    priority=template.get("priority", "normal"),
                    description=template.get("description", ""),
                    site="(the plan's site)",
                )
            )
        except ValidationError as exc:
            raise ValidationError(
                {f"order.{field}": problems for field, problems in exc.errors.items()}
            ) from None

    def create(self, order: PlannedOrder) -> bool:
        data = OrderInput(
            title=order.title,
            category=order.category,
            priority=order.priority,
            description=order.description,
            requested_window=TimeWindow(order.due_at, order.window_end),
        )
        try:
            self._services.intake.create_order(
                data=data,
                integrator=order.integrator,
                actor=SCHEDULER,
                order_id=order.order_id,
                site_id=order.site_id,
                asset_id=order.asset_id,
                maintenance=MaintenanceRef(
                    plan_id=order.plan_id, plan_name=order.plan_name, due_at=order.due_at
                ),
            )
        except OrderAlreadyExists:
            return False
        return True

"""What keeps an asset from being retired, in words (facilities.asset_services.OrdersAndPlans):
the open orders at it and the active maintenance plans on it, named, counted, never listed
past a handful."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from facilities.asset_services import BLOCKERS_NAMED, OrdersAndPlans
from facilities.ports import NoOrdersAnywhere, NothingPlanned, OrderLine, OrdersAt

ASSET = SimpleNamespace(pk="7d3c6a52-0b8e-4c1c-9f55-0d5e2f1f7a10")


def line(title: str) -> OrderLine:
    return OrderLine(
        id=title,
        title=title,
        status="Scheduled",
        priority="High",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        open=True,
        url=f"/admin/orders/workorder/{title}/",
    )


class Orders(NoOrdersAnywhere):
    def __init__(self, titles: list[str], *, more: bool = False):
        self.titles, self.more, self.asked = titles, more, []

    def at_asset(self, asset_id: str, *, limit: int = 20) -> OrdersAt:
        self.asked.append((asset_id, limit))
        return OrdersAt(open=[line(t) for t in self.titles[:limit]], past=[], more_open=self.more)


class Plans(NothingPlanned):
    def __init__(self, names: list[str]):
        self.names = names

    def active_plans_at_asset(self, asset_id: str) -> list[str]:
        return self.names


def reasons(orders: Orders, plans: Plans) -> list[str]:
    return OrdersAndPlans(orders, plans).retire_blockers(ASSET)


def test_nothing_at_the_asset_keeps_nothing_from_retiring():
    assert reasons(Orders([]), Plans([])) == []


def test_one_order_and_one_plan_are_named_in_the_singular():
    assert reasons(Orders(["Fix the belt"]), Plans(["Quarterly filters"])) == [
        "1 open order is at it (Fix the belt): complete or cancel it first.",
        "1 active maintenance plan is on it (Quarterly filters): pause or end it first.",
    ]


def test_a_few_are_counted_and_named():
    assert reasons(Orders(["A", "B"]), Plans(["P", "Q", "R"])) == [
        "2 open orders are at it (A, B): complete or cancel them first.",
        "3 active maintenance plans are on it (P, Q, R): pause or end them first.",
    ]


def test_many_are_named_a_handful_at_a_time():
    orders = Orders([f"O{n}" for n in range(BLOCKERS_NAMED)], more=True)
    plans = Plans([f"P{n}" for n in range(BLOCKERS_NAMED + 2)])
    said = reasons(orders, plans)
    assert said[0] == (
        "More than 5 open orders are at it (O0, O1, O2, O3, O4, …): complete or cancel them first."
    )
    assert said[1] == (
        "7 active maintenance plans are on it (P0, P1, P2, P3, P4, …): pause or end them first."
    )
    assert orders.asked == [(ASSET.pk, BLOCKERS_NAMED)]  # no more read than is said

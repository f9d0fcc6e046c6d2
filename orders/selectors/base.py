"""What both kinds of read stand on: the repository's parts they read, the teams' calendars
(an SLA counts in its team's working hours), the clock and the fan-out for reads at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kernel.fan_out import SEQUENTIAL, FanOut
from orders.domain.sla import BusinessCalendar
from orders.repository.base import OrderRepository


class SelectorBase:
    def __init__(
        self,
        *,
        orders: OrderRepository,
        calendar: Callable[[str | None], BusinessCalendar],
        clock: Callable[[], datetime],
        fan_out: FanOut = SEQUENTIAL,
    ):
        self.orders = orders
        #: Issues independent reads (one per status) at once.
        self.fan_out = fan_out
        #: The working hours of a team's orders (``TeamDirectory.calendar``).
        self.calendar = calendar
        self.clock = clock

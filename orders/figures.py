"""The staff's figures: orders per status, past their SLA and due soon, counted a few seconds
ago by the event relay rather than on every page.

Each figure is a bounded count over the status's index shards (``count_by_status``,
``count_due``): 16 counts of 32 shards, 512 queries. That is cheap for DynamoDB and dear for
a web page (about a second at 100,000 orders on this machine, most of it the client's own
work per call), so the relay, which sees every change go by, counts them again whenever
orders changed and at least every ``heartbeat`` (SLA clocks run without changes), and keeps
the result in one item. Pages read that item and say when it was counted; one older than
``max_age`` (no relay running, as in tests, or a relay stalled) is not used, and the page
counts for itself as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from kernel import metrics
from orders.domain.workflow import STATUSES, Status, StatusCategory, category_of
from orders.events.contract import EventMessage

log = logging.getLogger(__name__)

#: "Due soon" on the dashboard: the SLA ends within this (the list's "due within 1 h" filter).
DUE_SOON = timedelta(hours=1)
#: Counts stop at this many orders (and say "more").
CAP = 1000

Count = tuple[int, bool]  # (orders, capped: there may be more)
T = TypeVar("T")


@dataclass(frozen=True)
class Figures:
    #: status -> (orders, capped), every status in workflow order.
    by_status: dict[str, Count]
    #: Moving orders past their SLA, and due within DUE_SOON (the breached ones too).
    breached: Count
    due_soon: Count
    counted_at: datetime
    #: Counted for this page (no recent figures were kept).
    live: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "by_status": {s: list(c) for s, c in self.by_status.items()},
            "breached": list(self.breached),
            "due_soon": list(self.due_soon),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], counted_at: datetime) -> Figures:
        return cls(
            by_status={s: (int(n), bool(more)) for s, (n, more) in data["by_status"].items()},
            breached=(int(data["breached"][0]), bool(data["breached"][1])),
            due_soon=(int(data["due_soon"][0]), bool(data["due_soon"][1])),
            counted_at=counted_at,
        )


class Counter(Protocol):
    """The counts the figures are made of (``orders.selectors.OrderSelector``)."""

    fan_out: Any

    def count_in_status(self, status: str, *, cap: int = CAP) -> Count: ...

    def count_due(self, status: str, *, due_before: datetime, cap: int = CAP) -> Count: ...


class FiguresStore(Protocol):
    """Where the relay keeps them (``orders.repository.figures.DynamoFigures``)."""

    def save(self, figures: dict[str, Any], counted_at: datetime) -> None: ...

    def load(self) -> tuple[dict[str, Any], datetime] | None: ...


def count_figures(
    counter: Counter, *, now: datetime | None = None, due_soon: timedelta = DUE_SOON
) -> Figures:
    """Every figure counted now, all counts at once (``counter.fan_out``)."""
    reads, assemble = _counts(counter, now=now or datetime.now(UTC), due_soon=due_soon)
    return assemble(counter.fan_out(reads))


def _counts(
    counter: Counter, *, now: datetime, due_soon: timedelta
) -> tuple[list[Callable[[], Count]], Callable[[list[Count]], Figures]]:
    """The counts the figures take (to run at once, with other reads if need be) and what
    makes the figures of their results."""
    moving = [s for s in STATUSES if category_of(s) is StatusCategory.OPEN]

    def in_status(status: Status) -> Callable[[], Count]:
        return lambda: counter.count_in_status(status, cap=CAP)

    def due(status: Status, before: datetime) -> Callable[[], Count]:
        return lambda: counter.count_due(status, due_before=before, cap=CAP)

    reads = [
        *(in_status(s) for s in STATUSES),
        *(due(s, now) for s in moving),
        *(due(s, now + due_soon) for s in moving),
    ]

    def assemble(found: list[Count]) -> Figures:
        results = iter(found)
        by_status = {str(s): next(results) for s in STATUSES}

        def total(counts: list[Count]) -> Count:
            return sum(n for n, _ in counts), any(more for _, more in counts)

        breached = total([next(results) for _ in moving])
        due_soon_found = total([next(results) for _ in moving])
        return Figures(by_status, breached, due_soon_found, counted_at=now)

    return reads, assemble


class FiguresReader:
    """What pages read: the figures the relay counted, if recent, else counted now."""

    def __init__(
        self,
        counter: Counter,
        store: FiguresStore,
        *,
        max_age: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._counter = counter
        self._store = store
        self._max_age = max_age
        self._clock = clock

    def figures(self) -> Figures:
        return self.figures_with([])[0]

    def by_status(self) -> dict[str, Count]:
        """Orders per status only (the list's filters): when counted for the page, the
        statuses alone, not the SLA figures too."""
        kept = self._kept(self._clock())
        if kept is not None:
            return kept.by_status
        counts = self._counter.fan_out(
            [lambda s=s: self._counter.count_in_status(s, cap=CAP) for s in STATUSES]
        )
        return {str(s): count for s, count in zip(STATUSES, counts, strict=True)}

    def _kept(self, now: datetime) -> Figures | None:
        """The figures the relay counted, if recent enough."""
        try:
            kept = self._store.load()
        except Exception:  # noqa: BLE001 - the page counts for itself instead
            log.exception("the kept figures could not be read")
            return None
        if kept is None or now - kept[1] > self._max_age:
            return None
        return Figures.from_json(*kept)

    def figures_with(self, reads: Sequence[Callable[[], T]]) -> tuple[Figures, list[T]]:
        """The figures, and the results of ``reads``, run at once with the counts when the
        figures are counted for this page (one round of calls, not two)."""
        now = self._clock()
        kept = self._kept(now)
        if kept is not None:
            return kept, self._counter.fan_out(reads)
        counts, assemble = _counts(self._counter, now=now, due_soon=DUE_SOON)
        found = self._counter.fan_out([*counts, *reads])
        counted = assemble(found[: len(counts)])
        live = Figures(counted.by_status, counted.breached, counted.due_soon, now, live=True)
        return live, found[len(counts) :]


class FiguresRefresher:
    """Counts the figures again, on a thread of the relay's process, every ``every`` seconds
    while orders change (the relay hands it what it publishes, as to its other projections)
    and every ``heartbeat`` seconds whatever happens; a failed count is logged and tried
    again on the next turn, never stopping the relay."""

    def __init__(
        self,
        count: Callable[[], Figures],
        store: FiguresStore,
        *,
        every: float,
        heartbeat: float,
    ):
        self._count = count
        self._store = store
        self._every = every
        self._heartbeat = heartbeat
        #: Orders changed since the last count (a new relay counts at once).
        self._changed = threading.Event()
        self._changed.set()
        self._last = 0.0

    def append(self, messages: Sequence[EventMessage]) -> None:
        if messages:
            self._changed.set()

    def refresh(self, now: float) -> bool:
        """Count and keep the figures if orders changed or the heartbeat is due."""
        if not self._changed.is_set() and now - self._last < self._heartbeat:
            return False
        self._changed.clear()
        try:
            figures = self._count()
            self._store.save(figures.to_json(), figures.counted_at)
        except Exception:  # noqa: BLE001 - counted again next turn
            self._changed.set()
            log.exception("the staff's figures could not be counted")
            return False
        self._last = now
        metrics.FIGURES_COUNTED.set(time.time())
        return True

    def run(self, stop: threading.Event, *, clock: Callable[[], float]) -> None:
        while not stop.is_set():
            self.refresh(clock())
            stop.wait(self._every)

    def start(self, stop: threading.Event, *, clock: Callable[[], float]) -> threading.Thread:
        thread = threading.Thread(
            target=self.run, args=(stop,), kwargs={"clock": clock}, name="figures", daemon=True
        )
        thread.start()
        return thread

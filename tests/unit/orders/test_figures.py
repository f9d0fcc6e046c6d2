"""The staff's figures: counted by the relay while orders change, read by pages while recent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from kernel.fan_out import SEQUENTIAL
from orders.domain.workflow import STATUSES
from orders.events.contract import EventMessage
from orders.figures import (
    CAP,
    Figures,
    FiguresReader,
    FiguresRefresher,
    count_figures,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class FakeCounter:
    """Counts per status (scheduled has 1,500: past the cap) and per SLA deadline."""

    fan_out = SEQUENTIAL

    def __init__(self) -> None:
        self.calls = 0

    def count_in_status(self, status, *, cap=CAP):
        self.calls += 1
        n = {"received": 2, "accepted": 3, "scheduled": 1500}.get(str(status), 0)
        return min(n, cap), n > cap

    def count_due(self, status, *, due_before, cap=CAP):
        self.calls += 1
        breached = {"accepted": 1, "in_progress": 2}.get(str(status), 0)
        return (breached + (4 if due_before > NOW and str(status) == "scheduled" else 0)), False


class Store:
    def __init__(self) -> None:
        self.kept = None
        self.saves = 0
        self.fail = False

    def save(self, figures, counted_at):
        if self.fail:
            raise RuntimeError("throttled")
        self.saves += 1
        self.kept = (figures, counted_at)

    def load(self):
        if self.fail:
            raise RuntimeError("throttled")
        return self.kept


def message() -> EventMessage:
    return EventMessage(event_id="e", order_id="o", body="{}", attributes={}, created_at="")


def test_the_figures_are_the_counts_of_every_status_and_the_sla_deadlines():
    counter = FakeCounter()
    figures = count_figures(counter, now=NOW)
    assert list(figures.by_status) == [str(s) for s in STATUSES]
    assert figures.by_status["scheduled"] == (1000, True)  # shown as "1000+"
    assert figures.by_status["accepted"] == (3, False)
    assert figures.breached == (3, False)  # accepted 1 + in progress 2
    assert figures.due_soon == (7, False)  # and 4 scheduled due within the hour
    assert figures.counted_at == NOW and not figures.live
    assert Figures.from_json(figures.to_json(), NOW) == figures


def test_a_page_uses_recent_figures_and_counts_for_itself_when_they_are_old():
    counter, store = FakeCounter(), Store()
    clock = [NOW]
    reader = FiguresReader(counter, store, max_age=timedelta(seconds=60), clock=lambda: clock[0])
    kept = count_figures(counter, now=NOW)
    store.save(kept.to_json(), NOW)
    counter.calls = 0

    clock[0] = NOW + timedelta(seconds=59)
    figures, extra = reader.figures_with([lambda: "dead letters"])
    assert figures == kept and extra == ["dead letters"] and counter.calls == 0

    clock[0] = NOW + timedelta(seconds=61)
    figures, extra = reader.figures_with([lambda: "dead letters"])
    assert figures.live and figures.counted_at == clock[0] and extra == ["dead letters"]
    assert counter.calls == 16  # 8 statuses, and 2 deadlines of each of the 4 moving ones


def test_a_page_counts_for_itself_when_the_kept_figures_cannot_be_read(caplog):
    counter, store = FakeCounter(), Store()
    store.fail = True
    figures = FiguresReader(counter, store, max_age=timedelta(seconds=60), clock=lambda: NOW)
    assert figures.figures().live
    assert "could not be read" in caplog.text


def test_the_relay_counts_again_while_orders_change_and_on_its_heartbeat():
    counter, store = FakeCounter(), Store()
    refresher = FiguresRefresher(
        lambda: count_figures(counter, now=NOW), store, every=5, heartbeat=30
    )
    assert refresher.refresh(100.0)  # a new relay counts at once
    assert not refresher.refresh(105.0)  # nothing changed
    refresher.append([])
    assert not refresher.refresh(110.0)  # an empty read is no change
    refresher.append([message()])
    assert refresher.refresh(112.0)
    assert not refresher.refresh(141.0)
    assert refresher.refresh(142.0)  # 30 s since the last count: SLA clocks move
    assert store.saves == 3 and store.kept[1] == NOW


def test_a_failed_count_is_logged_and_tried_again_without_stopping_the_relay(caplog):
    counter, store = FakeCounter(), Store()
    refresher = FiguresRefresher(
        lambda: count_figures(counter, now=NOW), store, every=5, heartbeat=30
    )
    store.fail = True
    with caplog.at_level(logging.ERROR):
        assert not refresher.refresh(100.0)
    assert "could not be counted" in caplog.text
    store.fail = False
    assert refresher.refresh(101.0)  # still owed: tried again on the next turn


def test_the_refresher_thread_stops_with_the_relay():
    import threading

    counter, store = FakeCounter(), Store()
    refresher = FiguresRefresher(
        lambda: count_figures(counter, now=NOW), store, every=0.01, heartbeat=30
    )
    stop = threading.Event()
    thread = refresher.start(stop, clock=lambda: 0.0)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and store.saves >= 1


def test_the_list_counts_only_the_statuses_when_no_recent_figures_are_kept():
    counter, store = FakeCounter(), Store()
    reader = FiguresReader(counter, store, max_age=timedelta(seconds=60), clock=lambda: NOW)
    assert reader.by_status()["scheduled"] == (1000, True) and counter.calls == 8
    store.save(count_figures(counter, now=NOW).to_json(), NOW)
    counter.calls = 0
    assert reader.by_status()["accepted"] == (3, False) and counter.calls == 0

"""The web process renews an idempotency claim's lease while its request runs, and stops."""

from __future__ import annotations

import threading

from apikit.idempotency import LeaseKeeper
from tests.support import wait_for


class Renewals:
    def __init__(self, answers: list[bool] | None = None):
        self.calls: list[tuple[str, str, str]] = []
        self._answers = answers
        self.lock = threading.Lock()

    def renew(self, scope: str, key: str, token: str) -> bool:
        with self.lock:
            self.calls.append((scope, key, token))
            return self._answers.pop(0) if self._answers else True


def test_the_lease_is_renewed_while_the_request_runs_and_no_more_after():
    renewals = Renewals()
    with LeaseKeeper(renewals, "acme", "k", "t", every=0.01):
        wait_for(lambda: len(renewals.calls) >= 3, timeout=5, what="three renewals")
    stopped_at = len(renewals.calls)
    assert renewals.calls[0] == ("acme", "k", "t")
    # The keeper's thread has been joined: nothing can renew any more.
    assert len(renewals.calls) == stopped_at


def test_a_quick_request_renews_nothing():
    renewals = Renewals()
    with LeaseKeeper(renewals, "acme", "k", "t", every=60):
        pass
    assert renewals.calls == []


def test_renewing_stops_once_the_claim_is_no_longer_ours():
    renewals = Renewals(answers=[True, False])
    keeper = LeaseKeeper(renewals, "acme", "k", "t", every=0.01)
    with keeper:
        wait_for(lambda: not keeper._thread.is_alive(), timeout=5, what="the keeper to stop")
    assert len(renewals.calls) == 2

"""One process of the database concurrency test: leases due webhook deliveries, inserts new
ones, or records failed logins, in a loop, through the settings every portal process uses.

``python -m tests.database_contender <lease|insert|fail-login> <go-file> <rounds> [<arg>]``:
waits for ``<go-file>`` so that every contender starts at once, then exits 0, or 1 with the
error it met.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(job: str, go_file: str, rounds: int, arg: str = "") -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.utils import timezone

    from portal import login_throttle
    from tests.support import wait_for
    from webhooks.dispatch import Dispatcher, DispatchSettings
    from webhooks.models import WebhookDelivery

    try:
        wait_for(Path(go_file).exists, timeout=60, interval=0.01, what="the go file")
    except AssertionError as exc:
        print(f"never told to start: {exc}", file=sys.stderr)
        return 2
    dispatcher = Dispatcher(DispatchSettings(schedule=(0,)))
    for n in range(rounds):
        if job == "lease":
            leased = dispatcher.lease_due(limit=5)
            print(*leased, sep="\n", flush=True)
        elif job == "insert":
            WebhookDelivery.objects.create(
                endpoint_id=int(arg.split(":")[0]),
                event_id=f"event-{arg}-{n}",
                event_type="order.created",
                order_id=f"order-{arg}-{n}",
                status="received",
                payload="{}",
                next_attempt_at=timezone.now(),
            )
        else:
            login_throttle.record_failure(arg)
    return 0


if __name__ == "__main__":
    job, go_file, rounds, *rest = sys.argv[1:]
    try:
        sys.exit(main(job, go_file, int(rounds), *rest))
    except Exception as exc:  # noqa: BLE001 - the test reads it
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)

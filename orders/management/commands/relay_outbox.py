import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from orders.container import order_service
from orders.services import utcnow


class Command(BaseCommand):
    help = "Publish events that were stored but not published (SNS was down, or a process died)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Sweep once and exit.")

    def handle(self, *args, once: bool = False, **options):
        outbox = order_service().outbox
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"outbox relay: sweeping every {settings.OUTBOX_SWEEP_INTERVAL}s")
        while True:
            try:
                published = outbox.sweep(now=utcnow())
                if published:
                    self.stdout.write(f"published {published} stranded event(s)")
            except Exception as exc:  # noqa: BLE001 - keep relaying; the next sweep retries
                self.stderr.write(f"outbox sweep failed: {exc}")
            if once or stop.wait(settings.OUTBOX_SWEEP_INTERVAL):
                return

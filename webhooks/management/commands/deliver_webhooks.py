import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from kernel import metrics
from portal.container import webhook_dispatcher


class Command(BaseCommand):
    help = "POST due webhook deliveries, signed, retrying on schedule. Run one or more."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due and exit.")

    def handle(self, *args, once: bool = False, **options):
        dispatcher = webhook_dispatcher()
        if once:
            self.stdout.write(f"attempted {dispatcher.run_once()} deliveries")
            return
        metrics.serve(settings.METRICS_PORT)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logging.getLogger(__name__).info("webhook dispatcher started")
        dispatcher.run(stop, idle_seconds=settings.WEBHOOK_IDLE_SECONDS)

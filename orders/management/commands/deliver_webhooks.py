import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from orders.webhooks.dispatch import Dispatcher, DispatchSettings
from portal import metrics


def dispatcher_from_settings() -> Dispatcher:
    return Dispatcher(
        DispatchSettings(
            schedule=tuple(settings.WEBHOOK_RETRY_SCHEDULE),
            timeout_seconds=settings.WEBHOOK_TIMEOUT_SECONDS,
            concurrency=settings.WEBHOOK_CONCURRENCY,
            allow_private_urls=settings.WEBHOOK_ALLOW_PRIVATE_URLS,
        )
    )


class Command(BaseCommand):
    help = "POST due webhook deliveries, signed, retrying on schedule. Run one or more."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due and exit.")

    def handle(self, *args, once: bool = False, **options):
        dispatcher = dispatcher_from_settings()
        if once:
            self.stdout.write(f"attempted {dispatcher.run_once()} deliveries")
            return
        metrics.serve()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logging.getLogger(__name__).info("webhook dispatcher started")
        dispatcher.run(stop, idle_seconds=settings.WEBHOOK_IDLE_SECONDS)

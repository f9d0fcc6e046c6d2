import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from kernel import metrics
from portal.container import event_relay, figures_refresher, relay_progress_file


class Command(BaseCommand):
    help = (
        "Publish every committed order event to SNS, reading the orders table's stream. "
        "Run exactly one per table."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Read one batch from each shard, publish it and exit.",
        )

    def handle(self, *args, once: bool = False, **options):
        if once:
            result = event_relay().poll()
            self.stdout.write(f"published {result.published} event(s)")
            return
        # SIGTERM while the relay is being built or reading still ends it cleanly: the pass
        # stops after the chunk in hand and the position reached is saved.
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        figures = figures_refresher()
        relay = event_relay(progress_file=relay_progress_file(), figures=figures)
        if figures is not None:
            # The staff's figures, counted on a thread of their own (orders.figures).
            figures.start(stop, clock=time.monotonic)
        metrics.serve(settings.METRICS_PORT)
        logging.getLogger(__name__).info(
            "event relay started: group %s of %s, idle pause %ss",
            settings.EVENT_RELAY_GROUP,
            settings.EVENT_RELAY_GROUPS,
            settings.EVENT_RELAY_IDLE_SECONDS,
        )
        relay.run(stop, idle_seconds=settings.EVENT_RELAY_IDLE_SECONDS)

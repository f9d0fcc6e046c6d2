import logging
import signal
import threading
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from kernel import metrics
from portal.container import plan_scheduler


class Command(BaseCommand):
    help = (
        "Create the orders of maintenance plans' due occurrences, exactly once each. Run one "
        "or more: each pass takes the due plans one at a time, locked, skipping those another "
        "scheduler holds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")

    def handle(self, *args, once: bool = False, **options):
        scheduler = plan_scheduler(grace=timedelta(seconds=settings.SCHEDULER_GRACE_SECONDS))
        if once:
            result = scheduler.run_once()
            self.stdout.write(
                f"plans {result.plans}, orders created {result.created}, already there "
                f"{result.already}, failed {result.failed}"
            )
            return
        metrics.serve(settings.METRICS_PORT)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        logging.getLogger(__name__).info("maintenance scheduler started")
        scheduler.run(stop, interval=settings.SCHEDULER_INTERVAL_SECONDS)

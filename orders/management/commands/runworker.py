import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.domain.workflow import STATUSES
from portal.container import resources


class Command(BaseCommand):
    help = "Run the Celery worker for one status queue (what each worker deployment runs)."

    def add_arguments(self, parser):
        parser.add_argument("status", choices=[str(s) for s in STATUSES])
        parser.add_argument("celery_args", nargs="*", help="Extra arguments for celery worker.")

    def handle(self, *args, status: str, celery_args: list[str], **options):
        queue = resources().queue_name(status)
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            # No start-up banner: with LOG_FORMAT=json every line must be a JSON object, and
            # in text it is twenty lines per worker before anything useful (the worker logs
            # its queue and "ready." either way).
            "--quiet",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{status}@%h",
            "--loglevel",
            settings.LOG_LEVEL,
            *celery_args,
        ]
        # SIGTERM (what Kubernetes and ECS send) starts Celery's soft shutdown: no new messages,
        # running ones get WORKER_SOFT_SHUTDOWN_TIMEOUT to finish, held ones go back to the queue.
        os.environ["REMAP_SIGTERM"] = "SIGQUIT"
        # Only this status's queue is looked up (settings.ORDERS_WORKER_STATUS in the Celery
        # process): the worker's IAM role reaches no other.
        os.environ["ORDERS_WORKER_STATUS"] = status
        try:
            os.execv(sys.executable, argv)
        except OSError as exc:
            raise CommandError(f"could not start celery: {exc}") from exc

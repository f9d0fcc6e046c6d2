import os
import sys

from django.core.management.base import BaseCommand, CommandError

from orders.domain.workflow import STATUSES
from orders.resources import from_settings


class Command(BaseCommand):
    help = "Run the Celery worker for one status queue (what each worker deployment runs)."

    def add_arguments(self, parser):
        parser.add_argument("status", choices=[str(s) for s in STATUSES])
        parser.add_argument("celery_args", nargs="*", help="Extra arguments for celery worker.")

    def handle(self, *args, status: str, celery_args: list[str], **options):
        queue = from_settings().queue_name(status)
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{status}@%h",
            "--loglevel",
            os.environ.get("LOG_LEVEL", "INFO"),
            *celery_args,
        ]
        try:
            os.execv(sys.executable, argv)
        except OSError as exc:
            raise CommandError(f"could not start celery: {exc}") from exc

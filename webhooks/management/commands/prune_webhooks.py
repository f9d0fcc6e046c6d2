from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from webhooks.retention import prune


class Command(BaseCommand):
    help = (
        "Delete finished webhook deliveries (and their attempts) older than "
        "WEBHOOK_RETENTION_DAYS. The dispatcher also does it once an interval."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=None, help="Instead of the setting.")

    def handle(self, *args, days: float | None = None, **options):
        days = settings.WEBHOOK_RETENTION_DAYS if days is None else days
        if days <= 0:
            self.stdout.write("retention is off (WEBHOOK_RETENTION_DAYS=0): nothing pruned")
            return
        removed = prune(older_than=timedelta(days=days), now=timezone.now())
        self.stdout.write(f"pruned {removed} finished deliveries older than {days:g} days")

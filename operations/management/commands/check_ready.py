import json
import sys

from django.core.management.base import BaseCommand

from orders.domain.workflow import STATUSES
from portal.container import resources
from portal.health import WEB_CHECKS, check_queue, run_checks


class Command(BaseCommand):
    help = (
        "Readiness for a worker (exec probe): Django's database, the orders table, the topic "
        "and, with --status, that status's queue. Exits 1 when something is unreachable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=[str(s) for s in STATUSES])

    def handle(self, *args, status: str | None = None, **options):
        checks = dict(WEB_CHECKS)
        if status:
            checks["queue"] = check_queue(resources().queue_name(status))
        ready, results = run_checks(checks)
        self.stdout.write(json.dumps({"ready": ready, "checks": results}))
        if not ready:
            sys.exit(1)

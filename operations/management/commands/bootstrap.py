import os
import sys

from django.core.management.base import BaseCommand, CommandError

from operations import bootstrap


class Command(BaseCommand):
    help = (
        "Day one, idempotently: staff groups, the first superuser (DJANGO_SUPERUSER_*), "
        "teams (--teams), integrators (--integrator NAME) and a readiness check. Safe to run "
        "again: it only adds what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--teams", action="store_true", help="One team per category.")
        parser.add_argument(
            "--integrator", action="append", default=[], metavar="NAME", help="Repeatable."
        )
        parser.add_argument(
            "--skip-checks-of-aws", action="store_true", help="No readiness check at the end."
        )

    def handle(self, *args, teams: bool, integrator: list[str], **options):
        report = self.stdout.write
        try:
            bootstrap.require_migrated()
        except bootstrap.NotMigrated as exc:
            raise CommandError(str(exc)) from None
        bootstrap.ensure_groups(report)
        bootstrap.ensure_superuser(
            os.environ.get("DJANGO_SUPERUSER_USERNAME"),
            os.environ.get("DJANGO_SUPERUSER_PASSWORD"),
            os.environ.get("DJANGO_SUPERUSER_EMAIL", ""),
            report,
        )
        if teams:
            bootstrap.ensure_teams(report)
        issued = bootstrap.ensure_integrators(integrator, report)
        ready = options["skip_checks_of_aws"] or bootstrap.check_ready(report)
        for slug, key in issued.items():
            report(f"API key for {slug} (shown once): {key}")
        if not ready:
            self.stderr.write("not ready: see the FAIL lines (docs/deploy.md, day one)")
            sys.exit(1)

from django.core.management.base import BaseCommand, CommandError

from integrators.services import create_integrator, issue_key, rotate_keys


class Command(BaseCommand):
    help = (
        "Create an integrator (or reuse the one with that name) and issue it a new API key. "
        "The key is printed once, on the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--slug", help="Stable id (default: derived from the name).")
        parser.add_argument("--label", default="created from the command line")
        parser.add_argument(
            "--rotate", action="store_true", help="Revoke the integrator's other keys."
        )

    def handle(self, *args, name: str, slug: str | None, label: str, rotate: bool, **options):
        try:
            integrator, created = create_integrator(name, slug=slug)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if rotate:
            api_key, key = rotate_keys(integrator, label=label)
        else:
            api_key, key = issue_key(integrator, label=label)
        verb = "created" if created else "reusing"
        self.stderr.write(f"{verb} integrator {integrator.slug}; new key {api_key.prefix}…")
        self.stdout.write(key)

"""Day one for an operator, the safe parts, idempotently (``python manage.py bootstrap``).

Every step can run again and only adds what is missing: the staff groups with their
permissions, the first superuser (from ``DJANGO_SUPERUSER_*``, only while there is none), one
team per category (only while there are no teams), integrators named on the command line (a
key only for one without a working key) and a readiness check of what the portal needs.
Nothing here deletes, revokes or overwrites.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

#: Staff groups and the permissions (app_label.codename) each gets; give a person a group.
GROUPS: dict[str, tuple[str, ...]] = {
    "Dispatchers": (
        "orders.view_workorder",
        "orders.add_workorder",
        "orders.change_workorder",
        "orders.move_workorder",
        "orders.view_team",
        "orders.view_technician",
        "webhooks.view_webhookdelivery",
        "facilities.view_site",
        "facilities.add_site",
        "facilities.change_site",
        "facilities.view_asset",
        "facilities.add_asset",
        "facilities.change_asset",
        "maintenance.view_maintenanceplan",
        "maintenance.add_maintenanceplan",
        "maintenance.change_maintenanceplan",
    ),
    "Viewers": (
        "orders.view_workorder",
        "orders.view_team",
        "orders.view_technician",
        "facilities.view_site",
        "facilities.view_asset",
        "maintenance.view_maintenanceplan",
    ),
    "Team leads": (
        "orders.view_workorder",
        "orders.view_team",
        "maintenance.view_maintenanceplan",
        "orders.change_team",
        "orders.view_technician",
        "orders.add_technician",
        "orders.change_technician",
    ),
    "Integration managers": (
        "integrators.view_integrator",
        "integrators.add_integrator",
        "integrators.change_integrator",
        "integrators.view_apikey",
        "integrators.change_apikey",
        "webhooks.view_webhookendpoint",
        "webhooks.change_webhookendpoint",
        "webhooks.view_webhookdelivery",
        "webhooks.change_webhookdelivery",
        "facilities.view_site",
        "facilities.add_site",
        "facilities.change_site",
        "facilities.view_asset",
        "facilities.add_asset",
        "facilities.change_asset",
        "maintenance.view_maintenanceplan",
        "maintenance.add_maintenanceplan",
        "maintenance.change_maintenanceplan",
    ),
}

Report = Callable[[str], None]


class NotMigrated(RuntimeError):
    pass


def require_migrated() -> None:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise NotMigrated(
            f"{len(pending)} migration(s) not applied: run `python manage.py migrate` (the "
            "`migrate` role) first"
        )


def ensure_groups(report: Report) -> None:
    for name, wanted in GROUPS.items():
        group, created = Group.objects.get_or_create(name=name)
        permissions = [_permission(label) for label in wanted]
        held = set(group.permissions.values_list("pk", flat=True))
        missing = [p for p in permissions if p.pk not in held]
        group.permissions.add(*missing)
        state = "created" if created else ("updated" if missing else "kept")
        report(f"{state} group {name} ({len(wanted)} permissions)")


def _permission(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def ensure_superuser(
    username: str | None, password: str | None, email: str, report: Report
) -> None:
    users = get_user_model().objects
    if users.filter(is_superuser=True).exists():
        report("kept the superuser(s): one exists")
        return
    if not username or not password:
        report(
            "no superuser yet: set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD and "
            "run bootstrap again, or run createsuperuser"
        )
        return
    users.create_superuser(username=username, password=password, email=email)
    report(f"created superuser {username}")


def ensure_teams(report: Report) -> None:
    """One team per category (the ``seed_teams`` command's), only while there are none."""
    from django.core.management import call_command

    from orders.models import Team

    if Team.objects.exists():
        report(f"kept the teams: {Team.objects.count()} exist")
        return
    out = io.StringIO()
    call_command("seed_teams", stdout=out)
    for line in out.getvalue().splitlines():
        report(line)
    report("adjust the teams' categories, capacity and working hours in the admin")


def ensure_integrators(names: Iterable[str], report: Report) -> dict[str, str]:
    """The keys issued now, by slug (shown once); integrators with a working key get none."""
    from integrators.services import create_integrator, issue_key, live_keys

    issued = {}
    for name in names:
        integrator, created = create_integrator(name)
        live = live_keys(integrator).count()
        if live:
            report(f"kept integrator {integrator.slug}: {live} working key(s); rotate in the admin")
            continue
        _, key = issue_key(integrator, label="issued by bootstrap")
        issued[integrator.slug] = key
        report(f"{'created' if created else 'kept'} integrator {integrator.slug}; new key below")
    return issued


def check_ready(report: Report) -> bool:
    from orders.domain.workflow import STATUSES
    from portal.container import resources
    from portal.health import WEB_CHECKS, check_queue, run_checks

    checks = dict(WEB_CHECKS)
    for status in STATUSES:
        checks[f"queue {status}"] = check_queue(resources().queue_name(status))
    ready, results = run_checks(checks)
    for name, result in results.items():
        report(f"{'ok  ' if result['ok'] else 'FAIL'} {name} ({result['ms']} ms)")
    return ready

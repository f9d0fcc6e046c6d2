"""Upgrading across the split of the orders app: the integrators', webhooks' and operations'
models changed app without touching their tables, so rows survive, and the permissions staff
and groups hold follow the models to their new apps."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_SPLIT = [("orders", "0007_team_hours_technicians"), ("integrators", None)]
AFTER_SPLIT = [("orders", "0008_models_moved_to_their_apps")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    return executor.migrate(targets).apps


@pytest.mark.django_db(transaction=True)
def test_rows_and_permissions_survive_the_move_to_the_new_apps():
    old = migrate(BEFORE_SPLIT)
    try:
        ContentType = old.get_model("contenttypes", "ContentType")
        Permission = old.get_model("auth", "Permission")
        Group = old.get_model("auth", "Group")
        Integrator = old.get_model("orders", "Integrator")
        acme = Integrator.objects.create(slug="acme-migr", name="Acme")
        endpoint_type, _ = ContentType.objects.get_or_create(
            app_label="orders", model="webhookendpoint"
        )
        integrator_type, _ = ContentType.objects.get_or_create(
            app_label="orders", model="integrator"
        )
        group = Group.objects.create(name="support-migr")
        group.permissions.add(
            Permission.objects.get_or_create(
                content_type=integrator_type,
                codename="view_integrator",
                defaults={"name": "Can view integrator"},
            )[0],
            Permission.objects.get_or_create(
                content_type=endpoint_type,
                codename="change_webhookendpoint",
                defaults={"name": "Can change webhook endpoint"},
            )[0],
        )

        new = migrate(AFTER_SPLIT)

        moved = new.get_model("integrators", "Integrator").objects.get(slug="acme-migr")
        assert moved.pk == acme.pk and moved.name == "Acme"
        held = new.get_model("auth", "Group").objects.get(name="support-migr")
        assert sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in held.permissions.all()
        ) == ["integrators.view_integrator", "webhooks.change_webhookendpoint"]
        assert not new.get_model("contenttypes", "ContentType").objects.filter(
            app_label="orders", model__in=["integrator", "webhookendpoint"]
        ).exists()
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

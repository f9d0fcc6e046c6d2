"""Integrators, webhooks, the audit log and login failures live in their own apps now.

The tables stay as they are (the new apps' models keep their db_table), so the database is
untouched; only Django's state forgets them here. Their content types move to the new apps,
so the permissions staff and groups already hold keep working.
"""

from django.db import migrations

MOVED = {
    "integrator": "integrators",
    "apikey": "integrators",
    "webhookendpoint": "webhooks",
    "webhookdelivery": "webhooks",
    "webhookattempt": "webhooks",
    "auditentry": "operations",
    "loginfailure": "operations",
}


def move_content_types(apps, schema_editor):
    """Permissions hang on content types: relabel them instead of letting Django create new
    ones (a fresh database has none yet; the new apps' own are then created as usual)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model, app in MOVED.items():
        if not ContentType.objects.using(db).filter(app_label=app, model=model).exists():
            ContentType.objects.using(db).filter(app_label="orders", model=model).update(
                app_label=app
            )


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model, app in MOVED.items():
        if not ContentType.objects.using(db).filter(app_label="orders", model=model).exists():
            ContentType.objects.using(db).filter(app_label=app, model=model).update(
                app_label="orders"
            )


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0007_team_hours_technicians'),
        ('integrators', '0001_initial'),
        ('operations', '0001_initial'),
        ('webhooks', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RunPython(move_content_types, move_content_types_back),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='apikey',
                    name='integrator',
                ),
                migrations.DeleteModel(
                    name='AuditEntry',
                ),
                migrations.RemoveField(
                    model_name='webhookendpoint',
                    name='integrator',
                ),
                migrations.DeleteModel(
                    name='LoginFailure',
                ),
                migrations.RemoveField(
                    model_name='webhookattempt',
                    name='delivery',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='endpoint',
                ),
                migrations.DeleteModel(
                    name='ApiKey',
                ),
                migrations.DeleteModel(
                    name='Integrator',
                ),
                migrations.DeleteModel(
                    name='WebhookAttempt',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
                migrations.DeleteModel(
                    name='WebhookEndpoint',
                ),
            ],
        ),
    ]

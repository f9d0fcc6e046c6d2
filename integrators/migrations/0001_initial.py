"""Integrators and their keys moved here from the orders app. Their tables keep their
names (orders_*), so this only tells Django's state: nothing runs on the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('orders', '0007_team_hours_technicians'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Integrator',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(help_text="Stable id stored on the integrator's orders.", unique=True)),
                        ('name', models.CharField(max_length=200)),
                        ('active', models.BooleanField(default=True, help_text="Inactive integrators' keys stop working.")),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'orders_integrator',
                        'ordering': ['slug'],
                    },
                ),
                migrations.CreateModel(
                    name='ApiKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('prefix', models.CharField(editable=False, max_length=16, unique=True)),
                        ('digest', models.CharField(editable=False, max_length=64)),
                        ('label', models.CharField(blank=True, max_length=100)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('integrator', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='integrators.integrator')),
                    ],
                    options={
                        'verbose_name': 'API key',
                        'db_table': 'orders_apikey',
                        'ordering': ['-created_at'],
                    },
                ),
            ],
        ),
    ]

"""Webhook endpoints, deliveries and attempts moved here from the orders app. Their tables
keep their names (orders_*), so this only tells Django's state: nothing runs on the database."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('integrators', '0001_initial'),
        ('orders', '0007_team_hours_technicians'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('event_id', models.CharField(max_length=64)),
                        ('event_type', models.CharField(max_length=100)),
                        ('order_id', models.CharField(db_index=True, max_length=64)),
                        ('status', models.CharField(help_text="The order's status in the event.", max_length=32)),
                        ('payload', models.TextField(help_text='The event exactly as POSTed.')),
                        ('state', models.CharField(choices=[('pending', 'pending'), ('succeeded', 'succeeded'), ('failed', 'failed')], default='pending', max_length=16)),
                        ('schedule_step', models.PositiveSmallIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'verbose_name_plural': 'webhook deliveries',
                        'db_table': 'orders_webhookdelivery',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('attempted_at', models.DateTimeField()),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('latency_ms', models.PositiveIntegerField()),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('response_excerpt', models.CharField(blank=True, max_length=500)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='webhooks.webhookdelivery')),
                    ],
                    options={
                        'db_table': 'orders_webhookattempt',
                        'ordering': ['attempted_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.URLField(max_length=500)),
                        ('description', models.CharField(blank=True, max_length=200)),
                        ('secret', models.CharField(editable=False, max_length=100)),
                        ('statuses', models.JSONField(blank=True, default=list)),
                        ('event_types', models.JSONField(blank=True, default=list)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('disabled_at', models.DateTimeField(blank=True, null=True)),
                        ('disabled_reason', models.CharField(blank=True, max_length=500)),
                        ('integrator', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to='integrators.integrator')),
                    ],
                    options={
                        'db_table': 'orders_webhookendpoint',
                        'ordering': ['integrator', 'created_at'],
                    },
                ),
                migrations.AddField(
                    model_name='webhookdelivery',
                    name='endpoint',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookendpoint'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['state', 'next_attempt_at'], name='due_deliveries'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('endpoint', 'event_id'), name='one_delivery_per_event'),
                ),
            ],
        ),
    ]

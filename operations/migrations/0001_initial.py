"""The audit log and the login throttle's counts moved here from the orders app. Their
tables keep their names (orders_*), so this only tells Django's state: nothing runs on the
database."""

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
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('user', models.CharField(max_length=150)),
                        ('action', models.CharField(max_length=50)),
                        ('target', models.CharField(max_length=300)),
                        ('detail', models.TextField(blank=True)),
                    ],
                    options={
                        'verbose_name_plural': 'audit entries',
                        'db_table': 'orders_auditentry',
                        'ordering': ['-at'],
                    },
                ),
                migrations.CreateModel(
                    name='LoginFailure',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(help_text='sha256 of user name|address.', max_length=64, unique=True)),
                        ('failures', models.PositiveIntegerField(default=0)),
                        ('window_started', models.DateTimeField()),
                        ('locked_until', models.DateTimeField(blank=True, null=True)),
                        ('expires_at', models.DateTimeField(db_index=True)),
                    ],
                    options={
                        'db_table': 'orders_loginfailure',
                    },
                ),
            ],
        ),
    ]

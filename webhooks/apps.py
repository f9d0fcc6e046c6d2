from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Telling integrators about their orders: endpoints, deliveries, signing, the dispatcher."""

    name = "webhooks"
    verbose_name = "Webhooks"

"""Refuse to run against real AWS with settings that are only fit for a laptop."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def production_secret_key(app_configs, **kwargs):
    if (
        not settings.AWS_ENDPOINT_URL
        and not settings.DEBUG
        and (settings.SECRET_KEY == settings.INSECURE_DEV_SECRET_KEY)
    ):
        return [
            Error(
                "SECRET_KEY is the local development default while AWS_ENDPOINT_URL is unset "
                "(real AWS).",
                hint="Set SECRET_KEY to a long random value from your secret store.",
                id="orders.E001",
            )
        ]
    return []

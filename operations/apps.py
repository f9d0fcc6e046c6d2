from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the portal: the pipeline's health, dead letters and their redrive, provisioning,
    readiness, the staff audit log and the login throttle's counts."""

    name = "operations"
    verbose_name = "Operations"

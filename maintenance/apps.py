from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    """Preventive maintenance: plans that create work orders on a schedule, at a site or on an
    asset, through the orders' own services (the scheduler role, ``run_scheduler``)."""

    name = "maintenance"
    verbose_name = "Maintenance"

from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    """The places and the equipment the work is about: an integrator's sites and assets, kept
    in the Django database as reference data that staff and integrators edit."""

    name = "facilities"
    verbose_name = "Facilities"

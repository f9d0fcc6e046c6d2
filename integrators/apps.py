from django.apps import AppConfig


class IntegratorsConfig(AppConfig):
    """Other companies' systems that call the API: who they are, their keys, how a request
    proves it is one of them."""

    name = "integrators"
    verbose_name = "Integrators"

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Work orders"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from portal.container import reset_on_setting_change

        from . import checks  # noqa: F401 - registers the settings checks

        setting_changed.connect(reset_on_setting_change)

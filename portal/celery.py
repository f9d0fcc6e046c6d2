"""The Celery app. Its settings are the ``CELERY_*`` names in ``portal.settings``."""

import os
from functools import cached_property

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


class PortalCelery(Celery):
    @cached_property
    def Worker(self):  # noqa: N802 - Celery's name
        """The worker whose soft shutdown ends once running tasks finish (workers.shutdown)."""
        return self.subclass_with_self("workers.shutdown:Worker")


app = PortalCelery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"])

"""The orders' admin, one module per page (Django's autodiscovery imports this package):

- ``teams``: teams, technicians (and the backlog a capacity change serves);
- ``work_orders``: the orders section (list, detail, create, correct, moves), with
  ``order_work`` for the work on one order (notes, files, holds, technician, visit) and the
  forms in ``forms`` / ``work_forms``.

Integrators and their keys are in ``integrators.admin``, webhooks in ``webhooks.admin``, the
pipeline page and dead letters in ``operations.admin``.
"""

from orders.admin import teams, work_orders  # noqa: F401

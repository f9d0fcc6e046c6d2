"""The admin, one module per page (Django's autodiscovery imports this package):

- ``teams``: teams, technicians (and the backlog a capacity change serves);
- ``integrators``: integrators and their API keys;
- ``webhooks``: webhook endpoints and deliveries;
- ``work_orders``: the orders section (list, detail, create, correct, moves, pipeline page,
  dead letters), with ``order_work`` for the work on one order (notes, files, holds,
  technician, visit) and the forms in ``forms`` / ``work_forms``.
"""

from orders.admin import integrators, teams, webhooks, work_orders  # noqa: F401

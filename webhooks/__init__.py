"""Signed webhooks: telling integrators about their orders' status changes.

The status workers record one delivery per subscribed endpoint and event (``recording``); the
dispatcher (``python manage.py deliver_webhooks``) POSTs them, signed the Standard Webhooks
way (``signing``), retrying on a schedule like Svix's and disabling an endpoint whose
deliveries keep failing (``dispatch``). Delivery never blocks the order pipeline.
"""

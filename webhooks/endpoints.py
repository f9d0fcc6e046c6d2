"""Managing webhook endpoints: the one place the API and the admin change them."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from integrators.models import Integrator
from kernel.errors import ValidationError
from orders.domain.model import EventType
from orders.domain.workflow import STATUSES
from webhooks.models import WebhookDelivery, WebhookEndpoint

from . import signing
from .dispatch import enable
from .locking import claim
from .targets import UnsafeTarget, check_url


def check_fields(
    url: str | None, statuses: Iterable[str] | None, event_types: Iterable[str] | None
) -> None:
    """Raise :class:`ValidationError` naming each bad field."""
    errors: dict[str, list[str]] = {}
    if url is not None:
        try:
            check_url(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_URLS)
        except UnsafeTarget as exc:
            errors["url"] = [str(exc)]
    unknown = sorted(set(statuses or ()) - {str(s) for s in STATUSES})
    if unknown:
        errors["statuses"] = [f"Unknown statuses: {', '.join(unknown)}."]
    unknown = sorted(set(event_types or ()) - {t.value for t in EventType})
    if unknown:
        errors["event_types"] = [f"Unknown event types: {', '.join(unknown)}."]
    if errors:
        raise ValidationError(errors)


def create_endpoint(
    integrator: Integrator | str,
    *,
    url: str,
    description: str = "",
    statuses: Iterable[str] = (),
    event_types: Iterable[str] = (),
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret (show ``endpoint.secret`` once)."""
    check_fields(url, statuses, event_types)
    if isinstance(integrator, str):
        integrator = Integrator.objects.get(slug=integrator)
    return WebhookEndpoint.objects.create(
        integrator=integrator,
        url=url,
        description=description,
        secret=signing.new_secret(),
        statuses=sorted(set(statuses)),
        event_types=sorted(set(event_types)),
    )


def update_endpoint(endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change url, description, statuses, event_types; ``enabled=True`` enables it again."""
    check_fields(changes.get("url"), changes.get("statuses"), changes.get("event_types"))
    for field in ("url", "description"):
        if field in changes:
            setattr(endpoint, field, changes[field])
    for field in ("statuses", "event_types"):
        if field in changes:
            setattr(endpoint, field, sorted(set(changes[field])))
    endpoint.save()
    if changes.get("enabled") and not endpoint.enabled:
        enable(endpoint)
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint, its deliveries and their attempts, even while workers record new
    deliveries for it and dispatchers log attempts (they skip what is gone).

    The endpoint is locked before Django collects what to delete (``FOR UPDATE``: a new
    delivery's foreign-key check waits for it, then fails), and so are its deliveries (a new
    attempt waits, then fails); nothing can be added between the collecting and the deleting.
    """
    with transaction.atomic():
        rows = WebhookEndpoint.objects.filter(pk=endpoint.pk)
        if not claim(rows):
            return  # deleted already
        locked = rows.select_for_update().get()
        list(WebhookDelivery.objects.select_for_update().filter(endpoint=locked).values("pk"))
        locked.delete()

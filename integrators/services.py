"""Integrators and their API keys: issuing, revoking, authenticating.

A key looks like ``wop_<prefix>_<secret>``. The prefix (8 characters) is stored as is and
names the key in logs; the whole key is stored only as a SHA-256 digest (the secret is 256
random bits, so a slow password hash would add nothing but latency to every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from integrators.models import ApiKey, Integrator

KEY_SCHEME = "wop"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
#: last_used_at is refreshed at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: what the views and the services need to know."""

    integrator: str
    key_prefix: str
    is_authenticated: bool = True
    #: The integrator's display name (how its notes and attachments are signed).
    name: str = ""

    def __str__(self) -> str:
        return f"{self.integrator} (key {self.key_prefix})"


def key_label(key: str) -> str:
    """What may be logged about a key: its prefix, never the secret part."""
    parts = key.split("_", 2)
    if len(parts) == 3 and parts[0] == KEY_SCHEME:
        return f"{KEY_SCHEME}_{parts[1][:PREFIX_LENGTH]}_…"
    return "(not a portal key)"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_integrator(name: str, *, slug: str | None = None) -> tuple[Integrator, bool]:
    """The integrator with this slug (from the name unless given), created if missing."""
    slug = slug or slugify(name)[:50]
    if not slug:
        raise ValueError("an integrator needs a name with letters or digits")
    return Integrator.objects.get_or_create(slug=slug, defaults={"name": name})


def issue_key(integrator: Integrator, *, label: str = "") -> tuple[ApiKey, str]:
    """A new key for the integrator; the plain key is returned once and never stored."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        integrator=integrator, prefix=prefix, digest=digest(key), label=label
    )
    return api_key, key


def revoke_key(api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])


def live_keys(integrator: Integrator):
    """The integrator's keys that still work (none revoked yet, or revoked only later)."""
    return integrator.api_keys.filter(Q(revoked_at__isnull=True) | Q(revoked_at__gt=timezone.now()))


@transaction.atomic
def rotate_keys(
    integrator: Integrator, *, label: str = "rotated", grace: timedelta = timedelta(0)
) -> tuple[ApiKey, str]:
    """Issue a new key and revoke every other key of the integrator, after ``grace``: the
    integrator's systems keep working while they switch to the new key. A key already due
    to be revoked sooner keeps its earlier time."""
    until = timezone.now() + grace
    for old in live_keys(integrator):
        if old.revoked_at is None or old.revoked_at > until:
            old.revoked_at = until
            old.save(update_fields=["revoked_at"])
    return issue_key(integrator, label=label)


def authenticate(key: str) -> Caller | None:
    """The caller a key belongs to, or ``None`` for an unknown, revoked or inactive one."""
    parts = key.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != KEY_SCHEME or len(parts[1]) != PREFIX_LENGTH:
        return None
    api_key = ApiKey.objects.select_related("integrator").filter(prefix=parts[1]).first()
    if api_key is None or not hmac.compare_digest(api_key.digest, digest(key)):
        return None
    if api_key.revoked or not api_key.integrator.active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return Caller(
        integrator=api_key.integrator.slug,
        key_prefix=api_key.prefix,
        name=api_key.integrator.name,
    )


def integrator_names(*, active_only: bool = False) -> dict[str, str]:
    """Integrators by slug, with their names, for pages that show or choose the integrator of
    an order (the orders' admin reaches this through ``portal.container``)."""
    found = Integrator.objects.all()
    if active_only:
        found = found.filter(active=True)
    return dict(found.values_list("slug", "name"))

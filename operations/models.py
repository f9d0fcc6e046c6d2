"""What running the portal keeps: staff actions outside the orders' history, failed logins."""

from __future__ import annotations

import re

from django.db import models

#: The stored ``detail`` of a dead-letter action: "3 message(s)" or "1 message(s), message <id>"
#: (the format entries have had since the first redrive; the page reads the count back).
_DETAIL = re.compile(r"^(?P<count>\d+) message\(s\)(?:, message (?P<message_id>\S+))?$")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class AuditEntry(models.Model):
    """Staff actions that are not order moves (those are in the order's own history)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=300)
    detail = models.TextField(blank=True)

    #: The actions on a status's dead-letter queue (``target`` is the queue's name).
    REDRIVE, DISCARD = "redrive", "discard"

    class Meta:
        db_table = "orders_auditentry"  # kept from when it lived in orders
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target}"

    @property
    def count(self) -> int | None:
        """How many messages a dead-letter action took (None: another kind of entry)."""
        found = _DETAIL.match(self.detail)
        return int(found["count"]) if found else None

    @property
    def message_id(self) -> str:
        """The one message asked for ("" when all were)."""
        found = _DETAIL.match(self.detail)
        return (found["message_id"] or "") if found else ""

    @property
    def summary(self) -> str:
        """What was done, as staff would say it: "sent 1 dead letter back", "discarded 3 dead
        letters" (the audit tables show this, not the action's slug and the stored detail)."""
        count = self.count
        if count is None or self.action not in (self.REDRIVE, self.DISCARD):
            what = self.action.replace("_", " ")
            return f"{what}: {self.detail}" if self.detail else what
        if count == 0:
            asked = "the dead letter" if self.message_id else "dead letters"
            verb = "send back" if self.action == self.REDRIVE else "discard"
            return f"asked to {verb} {asked}, found none left"
        if self.action == self.REDRIVE:
            return f"sent {plural(count, 'dead letter')} back"
        return f"discarded {plural(count, 'dead letter')}"


class LoginFailure(models.Model):
    """Failed admin logins for one user name from one address, counted in the database so that
    every web process, and a restarted one, sees the same count (portal.login_throttle).

    One row per key while it matters: deleted on a successful login, and once it expires.
    """

    key = models.CharField(max_length=64, unique=True, help_text="sha256 of user name|address.")
    failures = models.PositiveIntegerField(default=0)
    window_started = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    #: When the row stops mattering (end of the window or of the lockout): cleanup's index.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "orders_loginfailure"

    def __str__(self) -> str:
        return f"{self.key[:8]}…: {self.failures} failure(s)"

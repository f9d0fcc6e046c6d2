"""What running the portal keeps: staff actions outside the orders' history, failed logins."""

from django.db import models


class AuditEntry(models.Model):
    """Staff actions that are not order moves (those are in the order's own history)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=300)
    detail = models.TextField(blank=True)

    class Meta:
        db_table = "orders_auditentry"  # kept from when it lived in orders
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target}"


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

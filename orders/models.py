"""Reference data kept in Django's database. Orders themselves live in DynamoDB."""

from django.core.exceptions import ValidationError
from django.db import models

from orders.domain.model import CATEGORIES


def validate_categories(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("List at least one category.")
    unknown = sorted(set(map(str, value)) - set(CATEGORIES))
    if unknown:
        raise ValidationError(f"Unknown categories {unknown}; use {', '.join(CATEGORIES)}.")


def validate_business_hours(value: str) -> None:
    from orders.domain.sla import parse_calendar

    try:
        parse_calendar(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class Team(models.Model):
    """A field team; the accepted worker assigns orders to the least loaded active team
    serving the order's category, up to its capacity of open orders."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable id stored on orders.")
    name = models.CharField(max_length=200)
    categories = models.JSONField(default=list, validators=[validate_categories])
    capacity = models.PositiveIntegerField(default=25, help_text="Open orders the team can hold.")
    active = models.BooleanField(default=True)
    business_hours = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_business_hours],
        help_text="Working hours the SLA of this team's orders counts in, e.g. "
        "'mon-fri 08:00-18:00 Europe/Madrid' or '24/7'. Blank: the default calendar "
        "(ORDERS_SLA_CALENDAR).",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Technician(models.Model):
    """A member of a team who visits sites. Orders keep the code and the display name;
    integrators see the name."""

    team = models.ForeignKey(Team, related_name="technicians", on_delete=models.PROTECT)
    code = models.SlugField(max_length=50, unique=True, help_text="Stable id stored on orders.")
    name = models.CharField(max_length=200, help_text="Shown to integrators.")
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    active = models.BooleanField(default=True, help_text="Inactive members get no new orders.")

    class Meta:
        ordering = ["team__code", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.team.code})"


class Integrator(models.Model):
    """Another company's system that sends orders through the API."""

    slug = models.SlugField(
        max_length=50, unique=True, help_text="Stable id stored on the integrator's orders."
    )
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True, help_text="Inactive integrators' keys stop working.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """An integrator's API key. Only a hash is stored: the key is shown once, when issued.
    The prefix is not secret; it identifies the key in logs and in the admin."""

    integrator = models.ForeignKey(Integrator, related_name="api_keys", on_delete=models.CASCADE)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.integrator.slug}: {self.prefix}…"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class WebhookEndpoint(models.Model):
    """Where an integrator wants to be told about its orders' status changes.

    The secret signs every delivery (Standard Webhooks). It has to be kept to sign with, so it
    is stored as is; it is shown to the integrator once, when the endpoint is created.
    """

    integrator = models.ForeignKey(
        Integrator, related_name="webhook_endpoints", on_delete=models.CASCADE
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    #: Empty means every status / every event type (like an SNS filter policy left out).
    statuses = models.JSONField(default=list, blank=True)
    event_types = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["integrator", "created_at"]

    def __str__(self) -> str:
        return f"{self.integrator.slug}: {self.url}"

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def wants(self, *, status: str, event_type: str) -> bool:
        return (not self.statuses or status in self.statuses) and (
            not self.event_types or event_type in self.event_types
        )


class WebhookDelivery(models.Model):
    """One event for one endpoint, delivered until it succeeds or its attempts run out."""

    PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
    STATES = [(PENDING, "pending"), (SUCCEEDED, "succeeded"), (FAILED, "failed")]

    endpoint = models.ForeignKey(
        WebhookEndpoint, related_name="deliveries", on_delete=models.CASCADE
    )
    event_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=100)
    order_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=32, help_text="The order's status in the event.")
    payload = models.TextField(help_text="The event exactly as POSTed.")
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    #: Position in the retry schedule; a manual redelivery starts it again.
    schedule_step = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # A duplicate event (SQS delivers at least once) never makes a second delivery.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="due_deliveries")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} -> {self.endpoint.url}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, related_name="attempts", on_delete=models.CASCADE)
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["attempted_at"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WorkOrder(models.Model):
    """A placeholder that gives orders a place in the admin and real permissions.

    Orders live in DynamoDB, not in this database: the table is never created, and the admin
    pages for orders are views of their own that call the services (``orders.admin.work_orders``).
    """

    class Meta:
        managed = False
        db_table = "orders_workorder_placeholder"
        verbose_name = "order"
        verbose_name_plural = "orders"
        default_permissions = ("view", "add", "change")
        permissions = [("move_workorder", "Can move orders through the lifecycle")]

    def __str__(self) -> str:
        return "order"


class AuditEntry(models.Model):
    """Staff actions that are not order moves (those are in the order's own history)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.CharField(max_length=150)
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=300)
    detail = models.TextField(blank=True)

    class Meta:
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

    def __str__(self) -> str:
        return f"{self.key[:8]}…: {self.failures} failure(s)"

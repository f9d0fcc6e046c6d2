"""Webhook endpoints, the deliveries recorded for them and each attempt to deliver."""

from django.db import models

from integrators.models import Integrator


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
        db_table = "orders_webhookendpoint"  # kept from when it lived in orders
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
        db_table = "orders_webhookdelivery"  # kept from when it lived in orders
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # A duplicate event (SQS delivers at least once) never makes a second delivery.
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="due_deliveries"),
            # Retention deletes finished deliveries oldest first (webhooks.retention).
            models.Index(fields=["state", "created_at"], name="finished_deliveries"),
        ]

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
        db_table = "orders_webhookattempt"  # kept from when it lived in orders
        ordering = ["attempted_at"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

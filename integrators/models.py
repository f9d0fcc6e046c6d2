"""Integrators (other companies' systems calling the API) and their API keys."""

from django.db import models
from django.utils import timezone


class Integrator(models.Model):
    """Another company's system that sends orders through the API."""

    slug = models.SlugField(
        max_length=50, unique=True, help_text="Stable id stored on the integrator's orders."
    )
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True, help_text="Inactive integrators' keys stop working.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "orders_integrator"  # kept from when it lived in orders
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
        db_table = "orders_apikey"  # kept from when it lived in orders
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.integrator.slug}: {self.prefix}…"

    @property
    def revoked(self) -> bool:
        """Revoked by now (a rotation may revoke a key later, after a grace period)."""
        return self.revoked_at is not None and self.revoked_at <= timezone.now()

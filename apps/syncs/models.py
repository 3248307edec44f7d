"""Warehouse connections and the SQL models syncs read from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class WarehouseKind(models.TextChoices):
    CONSOLE = "console", "The console's own database"
    POSTGRES = "postgres", "PostgreSQL"


class Warehouse(models.Model):
    """Where models are read from. The DSN (with its password) is stored encrypted."""

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=12, choices=WarehouseKind.choices)
    dsn_token = models.TextField(blank=True, help_text="Encrypted; never shown.")
    display = models.CharField(max_length=300, blank=True, help_text="Host, port and database.")
    statement_timeout = models.PositiveIntegerField(
        default=30, help_text="Seconds a model's query may run."
    )
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class SqlModel(models.Model):
    """A read-only SQL query and its primary-key column."""

    name = models.CharField(max_length=120, unique=True)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="models")
    sql = models.TextField()
    primary_key = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    columns = models.JSONField(default=list, blank=True, help_text="From the last preview.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

"""The append-only audit log."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One change: who (a user or the system), did what, to which object, when, from where.

    Rows are only ever inserted. The model refuses updates and deletes, and triggers refuse
    them at the database too (and TRUNCATE, on PostgreSQL).
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=255, help_text="The user's email at the time, or the system actor's name."
    )
    action = models.CharField(max_length=120, db_index=True, help_text="app.object.verb")
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(
        default=dict, blank=True, help_text='{"field": {"before": ..., "after": ...}}'
    )
    metadata = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="Made by the server for the request."
    )
    client_request_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The X-Request-ID the client sent (sanitised): for correlation, not trusted.",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-occurred_at", "-id")
        default_permissions = ()
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    @property
    def is_system(self) -> bool:
        return self.actor_id is None

    @property
    def target_label(self) -> str:
        if self.target_type_id is None:
            return ""
        return f"{self.target_type.app_label}.{self.target_type.model}"

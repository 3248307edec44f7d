"""Purposes, and the append-only ledger of what each subject allowed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import Jurisdiction, LegalBasis, Source


class Purpose(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=24, choices=LegalBasis.choices)
    # What holds for a subject who never chose, by regime: opt-in regimes deny until a
    # choice, opt-out regimes allow until the person opts out.
    default_gdpr = models.BooleanField("Default under GDPR", default=False)
    default_ccpa = models.BooleanField("Default under CCPA", default=True)
    default_other = models.BooleanField("Default elsewhere", default=False)
    position = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("position", "code")

    def __str__(self) -> str:
        return self.name

    def default_for(self, jurisdiction: str) -> bool:
        return {
            Jurisdiction.GDPR: self.default_gdpr,
            Jurisdiction.CCPA: self.default_ccpa,
        }.get(jurisdiction, self.default_other)


class AppendOnlyError(Exception):
    pass


class ConsentRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Consent records are append-only.")

    def delete(self):
        raise AppendOnlyError("Consent records are append-only; erasure removes them.")

    def _erase(self):
        """Erasure only: delete for real (the database permits it inside erasure)."""
        return super().delete()


class ConsentRecord(models.Model):
    """One choice a subject made about one purpose. Never edited; the latest one counts."""

    identifier_type = models.CharField(max_length=48)
    identifier_value = models.CharField(max_length=320)
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="records")
    granted = models.BooleanField()
    source = models.CharField(max_length=12, choices=Source.choices)
    notice_version = models.CharField(max_length=40, blank=True)
    jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices)
    evidence = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(help_text="When the person made the choice.")
    received_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=120, blank=True, help_text="The token or source used.")

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        ordering = ("-occurred_at", "-id")
        indexes = [models.Index(fields=["identifier_type", "identifier_value", "purpose"])]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "denied"
        return f"{self.identifier_type}:{self.identifier_value} {verb} {self.purpose_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Consent records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Consent records are append-only; erasure removes them.")

    @property
    def subject(self) -> str:
        return f"{self.identifier_type}:{self.identifier_value}"

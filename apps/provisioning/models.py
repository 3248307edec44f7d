"""What the identity provider keeps in the console through SCIM: each User and Group as it was
last written (the whole resource, every attribute the provider sent), and for a User the
person it provisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ResourceType(models.TextChoices):
    USER = "User", "User"
    GROUP = "Group", "Group"


class ScimResource(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    resource_type = models.CharField(max_length=20, choices=ResourceType.choices)
    # userName (a User's) or displayName (a Group's), lower-cased: looked up by filters, and
    # unique among Users
    name_key = models.CharField(max_length=300)
    external_id = models.CharField(max_length=300, blank=True)
    document = models.JSONField()  # the resource without its meta
    version = models.PositiveIntegerField(default=1)
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scim_resource",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("resource_type", "name_key"),
                condition=models.Q(resource_type="User"),
                name="provisioning_user_name_unique",
            ),
        ]
        indexes = [
            models.Index(fields=("resource_type", "name_key"), name="provisioning_by_name"),
            models.Index(fields=("resource_type", "external_id"), name="provisioning_by_external"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.name_key}"

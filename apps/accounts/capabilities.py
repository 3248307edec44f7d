"""Capabilities of the accounts app."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "accounts.manage_access",
        "Manage access",
        "Edit people, roles, trainings and completions; run access reviews.",
        sensitive=True,
    ),
    Capability(
        "accounts.view_access",
        "See everyone's access",
        "See each person's capabilities and why they have them.",
    ),
]

"""Capabilities of the consent ledger."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "consent.view",
        "See consent",
        "Look up what a person allowed, with the full history, and the counts per purpose.",
        sensitive=True,
    ),
    Capability(
        "consent.record",
        "Record consent",
        "Record a person's choice (for example from a form or an import) through the API.",
    ),
    Capability(
        "consent.manage_purposes",
        "Manage purposes",
        "Define purposes, their legal basis and their defaults per jurisdiction.",
        sensitive=True,
    ),
]

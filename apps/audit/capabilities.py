"""Capabilities of the audit app."""

from apps.accounts.registry import Capability

CAPABILITIES = [
    Capability("audit.view", "Read the audit log", "Every change, by whom, when and from where."),
]

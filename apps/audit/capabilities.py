"""Capabilities of the audit app."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability("audit.view", "Read the audit log", "Every change, by whom, when and from where."),
]

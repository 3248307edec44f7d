"""Capabilities of the tool registry."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability("tools.view", "See the tool registry", "Tools, costs, renewals and overlap."),
    Capability(
        "tools.manage",
        "Manage the tool registry",
        "Add and edit tools, import an inventory, change owners and contracts.",
    ),
]

"""Capabilities of event collection."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "events.view",
        "See sources and events",
        "See the sources that send events, their settings and the events they sent.",
    ),
    Capability(
        "events.manage_sources",
        "Manage sources",
        "Create sources, choose their tracking plan and enforcement, and issue, rotate and "
        "revoke their write keys.",
        sensitive=True,
    ),
    Capability(
        "events.replay",
        "Replay events",
        "Send quarantined or failed events through the pipeline again, after the schema, the "
        "plan or the cause was fixed.",
        sensitive=True,
    ),
]

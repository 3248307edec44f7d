"""Capabilities of the schema registry."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "schemas.view",
        "See schemas",
        "See event schemas, tracking plans and the violations seen in traffic.",
    ),
    Capability(
        "schemas.edit",
        "Edit schemas",
        "Draft schema versions, describe each property's purpose, manage tracking plans, and "
        "publish changes that keep old events valid (additions and revisions).",
    ),
    Capability(
        "schemas.publish",
        "Publish breaking changes",
        "Publish a schema version that breaks old events (a new model number), and deprecate "
        "versions.",
        sensitive=True,
    ),
]

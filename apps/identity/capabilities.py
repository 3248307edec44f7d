"""Capabilities of the identity graph."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "identity.view",
        "See profiles",
        "Find a person by any identifier; see their identifiers, links, merges and touches.",
        sensitive=True,
    ),
    Capability(
        "identity.manage",
        "Curate the identity graph",
        "Confirm or reject probabilistic links, merge profiles by hand and undo merges.",
        sensitive=True,
    ),
]

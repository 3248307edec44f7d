"""Capabilities of destinations and delivery."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "destinations.view",
        "See destinations and deliveries",
        "See destinations, their health, where each event went and why not elsewhere, the "
        "dead letters and the sandbox inbox. Credentials are never shown.",
    ),
    Capability(
        "destinations.manage",
        "Manage destinations",
        "Create and change destinations, their consent requirements, events and mappings, set "
        "credentials, send tests to the sandbox inbox and enable sandbox destinations.",
        sensitive=True,
    ),
    Capability(
        "destinations.send_production",
        "Send to production destinations",
        "Enable or change a production destination, or replay dead letters to one: data then "
        "reaches real customers' records in a vendor.",
        sensitive=True,
    ),
    Capability(
        "destinations.replay",
        "Replay dead letters",
        "Send dead-lettered deliveries again after the cause was fixed; consent and "
        "suppression are checked again first.",
        sensitive=True,
    ),
]

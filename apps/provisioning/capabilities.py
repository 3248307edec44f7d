"""Capabilities of the provisioning app."""

from apps.access.registry import Capability

CAPABILITIES = [
    Capability(
        "provisioning.provision_people",
        "Provision people (SCIM)",
        "Create, update and deactivate people and groups through /scim/v2/, as the company's "
        "identity provider does with an API token of its own.",
        sensitive=True,
    ),
]

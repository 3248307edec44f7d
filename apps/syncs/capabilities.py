"""Capabilities of reverse ETL."""

from apps.accounts.registry import Capability

CAPABILITIES = [
    Capability(
        "syncs.view",
        "See warehouses, models and syncs",
        "See warehouse connections (never their passwords), SQL models with their preview, "
        "and syncs with their runs.",
    ),
    Capability(
        "syncs.manage",
        "Manage warehouses and models",
        "Connect warehouses, test connections, and write the SQL models syncs read from. "
        "Queries run read-only with a time limit.",
        sensitive=True,
    ),
]

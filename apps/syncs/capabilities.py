"""Capabilities of reverse ETL."""

from apps.access.registry import Capability

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
    Capability(
        "syncs.run",
        "Run syncs",
        "Create and change syncs, run them, dry-run them, and pause or resume their schedule. "
        "Runs into production destinations that trip a guard rail wait for approval.",
        sensitive=True,
    ),
    Capability(
        "syncs.run_production",
        "Approve production sync runs",
        "Let a held run go ahead after its dry run: a sync's first run into a production "
        "destination, a change to mirror mode, or a run touching more rows than the threshold.",
        sensitive=True,
    ),
]

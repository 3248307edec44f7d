"""A warehouse the console loads events into, in the layout of
``apps.destinations.warehouse.layout``. Not a vendor API: nothing is sent event by event.
Routing records no deliveries for it; ``apps.destinations.warehouse.loader`` loads what
arrived since the last load, in batches, on the destination's schedule, deciding for each
event what routing would (environment, events taken, suppression, consent)."""

from __future__ import annotations

from .base import Adapter

SCHEMA_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
DEFAULT_SCHEMA = "martech_events"
DEFAULT_INTERVAL = 15  # minutes


class WarehouseLoader(Adapter):
    key = "warehouse"
    label = "Warehouse (events loaded in batches)"
    vendor = "your warehouse"
    # deletion: an erasure deletes the person's rows from every loaded table
    # (``apps.destinations.warehouse.erase``), not through a vendor API
    supports = frozenset({"loads", "deletion"})
    loads_in_batches = True

    @property
    def config_schema(self) -> dict:
        """The warehouses it may load into (every connection but the console's own
        database), by id, and the schema and schedule of the loads."""
        from apps.syncs.selectors import loadable_warehouses

        warehouses = loadable_warehouses()
        return {
            "type": "object",
            "properties": {
                "warehouse": {
                    "type": "string",
                    "enum": [str(w.pk) for w in warehouses],
                    "x-labels": {str(w.pk): f"{w.name} ({w.kind_label})" for w in warehouses},
                    "description": "The warehouse connection events are loaded into.",
                },
                "schema": {
                    "type": "string",
                    "pattern": SCHEMA_PATTERN,
                    "default": DEFAULT_SCHEMA,
                    "description": "The schema (dataset) of the tables: lower-case letters, "
                    "digits and _.",
                },
                "interval_minutes": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1440,
                    "default": DEFAULT_INTERVAL,
                    "description": "Minutes between loads.",
                },
            },
            "required": ["warehouse"],
            "additionalProperties": False,
        }

    def requests(self, items, config, credentials, base_url):
        raise NotImplementedError("A warehouse is loaded in batches, not sent to.")

"""The adapter catalog: one module per vendor, each a thin class (see ``base``)."""

from __future__ import annotations

from .amplitude import Amplitude
from .base import Adapter, Item, Outbound, Result, Verdict
from .braze import Braze
from .customerio import CustomerIo
from .google_ads import GoogleAdsConversions
from .hubspot import HubSpot
from .meta import MetaConversions
from .salesforce import Salesforce
from .warehouse import WarehouseLoader
from .webhook import Webhook

CATALOG: dict[str, Adapter] = {
    adapter.key: adapter
    for adapter in (
        Webhook(),
        HubSpot(),
        Braze(),
        CustomerIo(),
        Amplitude(),
        MetaConversions(),
        GoogleAdsConversions(),
        Salesforce(),
        WarehouseLoader(),
    )
}


def adapter_for(key: str) -> Adapter:
    return CATALOG[key]


def adapter_choices() -> list[tuple[str, str]]:
    return [(a.key, a.label) for a in CATALOG.values()]


__all__ = [
    "CATALOG",
    "Adapter",
    "Item",
    "Outbound",
    "Result",
    "Verdict",
    "adapter_choices",
    "adapter_for",
]

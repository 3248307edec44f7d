"""The capability registry: each domain app declares its capabilities in ``capabilities.py``.

A module ``apps/<app>/capabilities.py`` holds ``CAPABILITIES = [Capability(...), ...]``;
the registry collects them when Django starts. A capability's code is ``<app>.<action>``,
which is also the permission name ``user.has_perm()`` and ``{% if perms %}`` ask about.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps


@dataclass(frozen=True)
class Capability:
    code: str
    label: str
    description: str = ""
    # Touches production systems or customer data at scale: shown with a warning badge.
    sensitive: bool = False

    @property
    def app_label(self) -> str:
        return self.code.split(".", 1)[0]


_registry: dict[str, Capability] = {}


def discover() -> None:
    """Collect every installed domain app's CAPABILITIES (idempotent)."""
    for config in apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = import_module(f"{config.name}.capabilities")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.capabilities":
                raise
            continue
        for capability in module.CAPABILITIES:
            if capability.app_label != config.label:
                raise ValueError(f"{capability.code} is declared outside its app {config.label}")
            _registry[capability.code] = capability


def all_capabilities() -> list[Capability]:
    """Return every declared capability, ordered by code."""
    return sorted(_registry.values(), key=lambda c: c.code)


def get_capability(code: str) -> Capability | None:
    return _registry.get(code)


def capability_label(code: str) -> str:
    """What a person reads for ``code``: its label (“Read the audit log”), or the code itself
    when no installed app declares it any more."""
    capability = _registry.get(code)
    return capability.label if capability else code


def is_capability(code: str) -> bool:
    return code in _registry


def capability_choices() -> list[tuple[str, str]]:
    return [(c.code, f"{c.code} · {c.label}") for c in all_capabilities()]

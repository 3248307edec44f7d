"""The import contract that keeps each app's internals its own (``lint-imports``).

``pyproject.toml`` registers :class:`PublicModulesContract` as the ``public_modules`` contract
type and declares, in one place, what of an app another module may import: the rooms every
app has (``services``, ``selectors``, ``models`` …) and the named ports of a few apps (the
privacy gate, the outbound port …). Every other module of an app is internal: only the app
itself imports it.
"""

from __future__ import annotations

from collections import defaultdict

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils
from importlinter.domain import helpers


class PublicModulesContract(Contract):
    """Check that an app is imported from outside only through its public modules.

    Configuration options:

        - apps:          Module expressions naming the apps, e.g. ``apps.*``.
        - public_rooms:  Module names, relative to each app, public in every app that has them,
                         e.g. ``services``. The app's package itself is public too.
        - ports:         Further public modules, by full name (e.g. ``apps.consent.gate``); each
                         must exist, so the list cannot outlive a rename. (Optional.)
        - ignore_imports: Import expressions not to check. (Optional.)
        - unmatched_ignore_imports_alerting: "none", "warn" or "error" (the default) when an
                         ignored import is not in the graph.
        - broken_contract_guidance: Shown after the violations. (Optional.)

    A public module's submodules are public with it (``models`` may become a package). Any
    module outside an app, in another app or in the project package, counts as outside.
    """

    type_name = "public_modules"

    apps = fields.ListField(subfield=fields.ModuleExpressionField())
    public_rooms = fields.ListField(subfield=fields.StringField())
    ports = fields.ListField(subfield=fields.ModuleField(), required=False)
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )
    broken_contract_guidance = fields.TextField(required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        apps = sorted(
            module.name
            for module in helpers.module_expressions_to_modules(
                graph,
                self.apps,  # type: ignore[arg-type]
                raise_if_unmatched=True,
            )
        )
        ports = [port.name for port in self.ports or ()]  # type: ignore[attr-defined]
        for port in ports:
            if port not in graph.modules:
                raise ValueError(f"The port {port} does not exist.")
            if not any(_within(port, app) for app in apps):
                raise ValueError(f"The port {port} is in none of the apps.")

        illegal: dict[str, list[dict]] = defaultdict(list)
        for app in apps:
            public = [f"{app}.{room}" for room in self.public_rooms] + ports  # type: ignore[attr-defined]
            importers = graph.find_modules_that_directly_import(app, as_package=True)
            for importer in sorted(m for m in importers if not _within(m, app)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if not _within(imported, app):
                        continue
                    if imported == app or any(_within(imported, p) for p in public):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    illegal[app].append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "line_numbers": tuple(d["line_number"] for d in details),
                        }
                    )
        return ContractCheck(
            kept=not illegal,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"illegal": dict(illegal), "ports": ports},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        rooms = ", ".join(self.public_rooms)  # type: ignore[arg-type]
        for app, links in check.metadata["illegal"].items():
            ports = [p for p in check.metadata["ports"] if _within(p, app)]
            output.print_error(f"Internals of {app} imported from outside it:", bold=False)
            output.new_line()
            for link in links:
                lines = ", ".join(str(n) for n in link["line_numbers"])
                output.print_error(
                    f"- {link['importer']} -> {link['imported']} (l.{lines})", bold=False
                )
            output.new_line()
            output.print(f"Public in {app}: {rooms}" + "".join(f", {p}" for p in ports) + ".")
            output.new_line()
        contract_utils.render_broken_contract_guidance(self.broken_contract_guidance)  # type: ignore[arg-type]


def _within(module: str, package: str) -> bool:
    """Whether ``module`` is ``package`` or one of its descendants."""
    return module == package or module.startswith(package + ".")

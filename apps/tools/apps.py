from django.apps import AppConfig


class ToolsConfig(AppConfig):
    name = "apps.tools"
    label = "tools"
    verbose_name = "Tool registry"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page, register_search

        from . import selectors

        register_page(
            Page(
                "Tools",
                "tools:tool_list",
                section="Stack",
                icon="apps",
                order=10,
                permission="tools.view",
                keywords=("registry", "vendors", "stack", "cost"),
            )
        )
        register_page(
            Page(
                "Redundancy",
                "tools:redundancy",
                section="Stack",
                icon="copy",
                order=20,
                permission="tools.view",
                keywords=("overlap", "consolidation", "spend"),
            )
        )
        register_page(
            Page(
                "Renewals",
                "tools:renewals",
                section="Stack",
                icon="calendar-event",
                order=30,
                permission="tools.view",
                keywords=("contracts", "notice", "calendar"),
            )
        )
        register_page(
            Page(
                "Architecture advisor",
                "tools:advisor",
                section="Stack",
                icon="compass",
                order=40,
                permission="tools.view",
                keywords=("cdp", "warehouse", "reverse etl", "event bus", "decision"),
            )
        )
        register_search("Tool", selectors.tool_palette_search)

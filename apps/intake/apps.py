from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "apps.intake"
    label = "intake"
    verbose_name = "PPS intake"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page, register_search

        from . import selectors

        register_page(
            Page(
                "Intake",
                "intake:board",
                section="Stack",
                icon="layout-kanban",
                order=5,
                keywords=("pps", "problem", "people", "system", "new tool", "request", "buy"),
            )
        )
        register_search("Intake request", selectors.intake_palette_search)

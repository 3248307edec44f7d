from django.apps import AppConfig


class SchemasConfig(AppConfig):
    name = "apps.schemas"
    label = "schemas"
    verbose_name = "Schema registry"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page, register_search

        from . import palette

        for title, url, icon, order, keywords in (
            (
                "Event schemas",
                "schemas:schema_list",
                "braces",
                10,
                ("schema", "tracking plan", "events", "contract", "json schema"),
            ),
            (
                "Tracking plans",
                "schemas:plan_list",
                "list-check",
                20,
                ("tracking plan", "enforcement", "sources"),
            ),
            (
                "Schema violations",
                "schemas:violations",
                "alert-triangle",
                30,
                ("violations", "drift", "unplanned", "data quality"),
            ),
        ):
            register_page(
                Page(
                    title,
                    url,
                    section="Data",
                    icon=icon,
                    order=order,
                    permission="schemas.view",
                    keywords=keywords,
                )
            )
        register_search("Event schema", palette.schema_palette_search)

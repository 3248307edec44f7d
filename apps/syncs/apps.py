from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "apps.syncs"
    label = "syncs"
    verbose_name = "Reverse ETL"

    def ready(self) -> None:
        from martech import checks  # noqa: F401 - registers the database role checks
        from martech.common.navigation import Page, register_actions, register_page, register_search

        from . import palette

        register_page(
            Page(
                "Warehouses",
                "syncs:warehouse_list",
                section="Data",
                icon="database",
                order=12,
                permission="syncs.view",
                keywords=("warehouse", "reverse etl", "connection", "postgres", "dsn"),
            )
        )
        register_page(
            Page(
                "Models",
                "syncs:model_list",
                section="Data",
                icon="table",
                order=13,
                permission="syncs.view",
                keywords=("model", "sql", "reverse etl", "preview", "primary key"),
            )
        )
        register_page(
            Page(
                "Syncs",
                "syncs:sync_list",
                section="Data",
                icon="arrows-exchange",
                order=14,
                permission="syncs.view",
                keywords=("sync", "reverse etl", "mirror", "upsert", "dry run", "schedule"),
            )
        )
        register_search("Sync", palette.sync_palette_search)
        register_actions("dry run", palette.dry_run_palette_actions, verbs=palette.VERBS)

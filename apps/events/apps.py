from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Event collection"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from martech.common.navigation import Page, register_page, register_search

        from . import palette
        from .models import Source, WriteKey
        from .services import keys_changed

        for model in (Source, WriteKey):
            post_save.connect(keys_changed, sender=model, dispatch_uid=f"keys-{model.__name__}")
            post_delete.connect(keys_changed, sender=model, dispatch_uid=f"keys-{model.__name__}-")

        register_page(
            Page(
                "Events",
                "events:event_list",
                section="Data",
                icon="activity",
                order=6,
                permission="events.view",
                keywords=("events", "stream", "live", "quarantine", "replay"),
            )
        )
        register_page(
            Page(
                "Attribution",
                "events:attribution",
                section="Data",
                icon="chart-bar",
                order=8,
                permission="events.view",
                keywords=("attribution", "first touch", "last touch", "utm", "campaign", "channel"),
            )
        )
        register_page(
            Page(
                "Pipeline health",
                "events:health",
                section="Data",
                icon="heartbeat",
                order=7,
                permission="events.view",
                keywords=("pipeline", "lag", "throughput", "failures"),
            )
        )
        register_page(
            Page(
                "Sources",
                "events:source_list",
                section="Data",
                icon="plug",
                order=5,
                permission="events.view",
                keywords=("source", "write key", "collection", "sdk", "tracking"),
            )
        )
        register_search("Source", palette.source_palette_search)

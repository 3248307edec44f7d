from django.apps import AppConfig


class DestinationsConfig(AppConfig):
    name = "apps.destinations"
    label = "destinations"
    verbose_name = "Destinations"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_actions, register_page, register_search

        from . import palette

        register_page(
            Page(
                "Destinations",
                "destinations:destination_list",
                section="Data",
                icon="send",
                order=9,
                permission="destinations.view",
                keywords=("destination", "delivery", "vendor", "webhook", "health"),
            )
        )
        register_page(
            Page(
                "Dead letters",
                "destinations:dead_letters",
                section="Data",
                icon="mail-x",
                order=10,
                permission="destinations.view",
                keywords=("dead letter", "failed deliveries", "replay", "dlq"),
            )
        )
        register_page(
            Page(
                "Sandbox inbox",
                "destinations:inbox",
                section="Data",
                icon="inbox",
                order=11,
                permission="destinations.view",
                keywords=("sandbox", "send test", "capture", "payload"),
            )
        )
        register_search("Destination", palette.destination_palette_search)
        register_actions("replay", palette.replay_palette_actions, verbs=palette.VERBS)

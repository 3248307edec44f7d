from django.apps import AppConfig


class ErasureConfig(AppConfig):
    name = "apps.erasure"
    label = "erasure"
    verbose_name = "Erasure"

    def ready(self) -> None:
        from apps.destinations.routing import register_suppression_check
        from martech.common.navigation import Page, register_page

        from .suppression import suppressed_subjects

        register_suppression_check(suppressed_subjects)
        register_page(
            Page(
                "Erasure requests",
                "erasure:request_list",
                section="Privacy",
                icon="trash",
                order=30,
                permission="erasure.view",
                keywords=("erasure", "gdpr", "ccpa", "delete", "right to be forgotten", "dsar"),
            )
        )

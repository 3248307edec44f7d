from django.apps import AppConfig


class ErasureConfig(AppConfig):
    name = "apps.erasure"
    label = "erasure"
    verbose_name = "Erasure"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from martech.common.navigation import Page, register_actions, register_page, register_search

        from . import palette
        from .models import Suppression
        from .suppression import forget

        post_save.connect(forget, sender=Suppression, dispatch_uid="suppression-saved")
        post_delete.connect(forget, sender=Suppression, dispatch_uid="suppression-forget")
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
        register_search("Erasure request", palette.erasure_palette_search)
        register_actions("erasure", palette.erasure_palette_actions, verbs=palette.VERBS)

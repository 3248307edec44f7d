from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "apps.identity"
    label = "identity"
    verbose_name = "Identity graph"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page, register_search

        from . import selectors

        register_page(
            Page(
                "Profiles",
                "identity:profile_list",
                section="Data",
                icon="fingerprint",
                order=10,
                permission="identity.view",
                keywords=("identity", "person", "customer", "identifier", "email", "cookie"),
            )
        )
        register_page(
            Page(
                "Link review",
                "identity:review_queue",
                section="Data",
                icon="git-merge",
                order=20,
                permission="identity.view",
                keywords=("probabilistic", "conflict", "merge", "identity"),
            )
        )
        register_search("Profile", selectors.profile_palette_search)

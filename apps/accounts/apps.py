from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "People and access"

    def ready(self) -> None:
        from martech.common.navigation import (
            Page,
            register_actions,
            register_page,
            register_search,
        )

        from . import palette, registry, selectors, signals  # noqa: F401  (connects the auth signal receivers)

        registry.discover()
        from .api import schema  # noqa: F401  (registers the OpenAPI auth extension)

        register_page(
            Page(
                "People",
                "accounts:user_list",
                section="Governance",
                icon="users",
                order=10,
                keywords=("users", "team", "directory", "staff"),
            )
        )
        register_page(
            Page(
                "API tokens",
                "accounts:token_list",
                section="Account",
                icon="key",
                order=20,
                keywords=("token", "bearer", "api", "credentials"),
            )
        )
        register_page(
            Page(
                "Change password",
                "accounts:password_change",
                section="Account",
                icon="lock",
                order=30,
                in_sidebar=False,
                keywords=("password", "security"),
            )
        )
        for label, url_name, icon, order, keywords in [
            ("My access", "accounts:my_access", "shield-check", 5, ("permissions", "capabilities")),
            ("Roles", "accounts:role_list", "id-badge-2", 20, ("permissions", "tenure")),
            ("Trainings", "accounts:training_list", "certificate", 30, ("courses", "completions")),
            ("Access requests", "accounts:request_list", "inbox", 40, ("approve", "request")),
            ("Access reviews", "accounts:review_list", "checklist", 50, ("campaign", "recertify")),
        ]:
            section = "Account" if url_name == "accounts:my_access" else "Governance"
            register_page(
                Page(label, url_name, section=section, icon=icon, order=order, keywords=keywords)
            )
        register_search("Person", selectors.user_palette_search)
        register_search("Role", selectors.role_palette_search)
        register_actions("access", palette.access_palette_actions, verbs=palette.VERBS)

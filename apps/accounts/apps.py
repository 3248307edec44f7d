from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "People"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page, register_search

        from . import selectors, signals  # noqa: F401  (connects the auth signal receivers)
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
        register_page(
            Page(
                "Two-step sign-in",
                "accounts:mfa",
                section="Account",
                icon="shield-lock",
                order=35,
                in_sidebar=False,
                keywords=("mfa", "2fa", "authenticator", "totp", "recovery codes", "security"),
            )
        )
        register_search("Person", selectors.user_palette_search)

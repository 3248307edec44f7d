from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "apps.consent"
    label = "consent"
    verbose_name = "Consent ledger"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page
        from martech.common.panels import register_panel

        from .views import profile_panel

        register_panel("profile", profile_panel)

        register_page(
            Page(
                "Consent lookup",
                "consent:lookup",
                section="Privacy",
                icon="shield-check",
                order=10,
                permission="consent.view",
                keywords=("consent", "gdpr", "ccpa", "gpc", "opt-out", "ledger"),
            )
        )
        register_page(
            Page(
                "Purposes",
                "consent:purpose_list",
                section="Privacy",
                icon="scale",
                order=20,
                permission="consent.view",
                keywords=("consent", "legal basis", "purposes"),
            )
        )

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_page

        register_page(
            Page(
                "Audit log",
                "audit:event_list",
                section="Governance",
                icon="history",
                permission="audit.view",
                keywords=("history", "changes", "who did what"),
            )
        )

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "apps.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from martech.common.navigation import Page, register_actions, register_page, register_search

        from . import palette, registry, selectors

        registry.discover()
        for label, url_name, icon, order, keywords in [
            ("My access", "access:my_access", "shield-check", 5, ("permissions", "capabilities")),
            ("Roles", "access:role_list", "id-badge-2", 20, ("permissions", "tenure")),
            ("Trainings", "access:training_list", "certificate", 30, ("courses", "completions")),
            ("Access requests", "access:request_list", "inbox", 40, ("approve", "request")),
            ("Access reviews", "access:review_list", "checklist", 50, ("campaign", "recertify")),
        ]:
            section = "Account" if url_name == "access:my_access" else "Governance"
            register_page(
                Page(label, url_name, section=section, icon=icon, order=order, keywords=keywords)
            )
        register_search("Role", selectors.role_palette_search)
        register_actions("access", palette.access_palette_actions, verbs=palette.VERBS)

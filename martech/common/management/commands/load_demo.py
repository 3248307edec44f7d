"""Load the embedded demo data, idempotently: each app's ``demo.load()`` in app order."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings

from martech.common import context


class Command(BaseCommand):
    help = "Load believable demo data into the console (safe to run again)."

    def handle(self, *args, **options):
        with (
            # The demo people are fictional: their notifications stay in the console.
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            context.acting(system_actor="demo-loader", request_id=context.new_request_id()),
            transaction.atomic(),
        ):
            for config in apps.get_app_configs():
                if not config.name.startswith("apps."):
                    continue
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.demo":
                        raise
                    continue
                summary = module.load()
                self.stdout.write(f"  {config.verbose_name}: {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))

"""Wrap the suppression list's hashes (and the erasure requests') under the newest key of
MARTECH_SUPPRESSION_KEYS.

Put a new key first in the setting and keep every older one after it (a hash under the new
key is the chain of all of them), restart the processes, then run this command. Lookups work
throughout: until a hash is wrapped, it is found under its old key id. ``--generate`` prints
a new random key to put in front.
"""

import secrets

from django.core.management.base import BaseCommand

from apps.erasure.suppression import current_key_id, rotate


class Command(BaseCommand):
    help = "Wrap every suppression hash under the newest suppression key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate", action="store_true", help="Only print a new key to put in front."
        )

    def handle(self, *args, **options):
        if options["generate"]:
            self.stdout.write(secrets.token_urlsafe(48))
            return
        done = rotate()
        listed = ", ".join(f"{count} {what}" for what, count in done.items())
        self.stdout.write(f"Under key {current_key_id()}: wrapped {listed}.")

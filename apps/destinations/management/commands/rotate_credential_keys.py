"""Re-encrypt every destination's credentials with the newest key of MARTECH_CREDENTIAL_KEYS.

Put the new key first in the setting (keep the old one after it), run this command, then
drop the old key.
"""

from django.core.management.base import BaseCommand

from apps.destinations.services import credentials_rotate


class Command(BaseCommand):
    help = "Re-encrypt destination credentials with the newest credential key."

    def handle(self, *args, **options):
        count = credentials_rotate()
        self.stdout.write(f"Re-encrypted the credentials of {count} destinations.")

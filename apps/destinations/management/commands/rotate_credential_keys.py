"""Re-encrypt everything the console keeps encrypted with the newest key of
MARTECH_CREDENTIAL_KEYS: destination credentials and warehouse destinations' hash keys,
warehouse DSNs, and the identifiers of open erasure requests.

Put the new key first in the setting (keep the old one after it), run this command, then
drop the old key.
"""

from django.core.management.base import BaseCommand

from apps.destinations.services import credentials_rotate
from apps.erasure.services import identifiers_rotate
from apps.syncs.services import warehouse_dsns_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt destination credentials and hash keys, warehouse DSNs and open erasure "
        "requests' "
        "identifiers with the newest credential key."
    )

    def handle(self, *args, **options):
        destinations = credentials_rotate()
        warehouses = warehouse_dsns_rotate()
        identifiers = identifiers_rotate()
        self.stdout.write(
            f"Re-encrypted {destinations} destination credentials and hash keys, the DSNs of "
            f"{warehouses} warehouses and {identifiers} identifiers of open erasure requests."
        )

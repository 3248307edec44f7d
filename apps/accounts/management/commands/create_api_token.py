"""Create a personal API token for a person and print it once."""

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.accounts.services import api_token_create
from martech.common import context
from martech.common.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API token for the person with EMAIL and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="Command-line token", help="What the token is for.")
        parser.add_argument("--days", type=int, default=None, help="Days until it expires.")

    def handle(self, *args, email, name, days, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No person with the email {email}.")
        with context.acting(system_actor="command:create_api_token"):
            try:
                token, raw = api_token_create(user=user, name=name, days=days)
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created token “{token.name}” for {user.email}, expiring "
            f"{token.expires_at:%Y-%m-%d}. Store it now; it cannot be shown again."
        )
        self.stdout.write(raw)

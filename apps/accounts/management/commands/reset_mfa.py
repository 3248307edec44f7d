"""Remove a person's second factors and recovery codes, for someone who lost them all."""

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User
from apps.accounts.services import mfa_reset
from martech.common import context


class Command(BaseCommand):
    help = (
        "Remove the authenticator app and recovery codes of the person with EMAIL (audited). "
        "They sign in with their password alone, or set up a new app if their access needs one."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No person with the email {email}.")
        with context.acting(system_actor="command:reset_mfa"):
            removed = mfa_reset(user=user)
        what = ", ".join(removed) if removed else "no second factor"
        self.stdout.write(f"Removed {what} and the recovery codes of {user.email}.")

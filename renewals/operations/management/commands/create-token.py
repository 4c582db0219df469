"""renewals create-token EMAIL [--name NAME]: print a new API token for that user."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from renewals.api.tokens import create_token


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="a name to recognise the token by")

    def handle(self, *args, email, name, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {email}.")
        if not user.is_active:
            raise CommandError(f"The user {email} is deactivated.")
        token, raw = create_token(user=user, name=name or "command line")
        self.stderr.write(f"Token {token.name!r} for {user.email} (shown only once):")
        self.stdout.write(raw)

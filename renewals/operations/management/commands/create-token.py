"""renewals create-token EMAIL [--name NAME]: print a new API token for that user."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from renewals.api.tokens import create_token


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="", help="a name to recognise the token by")
        parser.add_argument(
            "--staff", action="store_true", help="a staff token: reads every customer's events"
        )

    def handle(self, *args, email, name, staff=False, **options):
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with the email {email}.")
        if not user.is_active:
            raise CommandError(f"The user {email} is deactivated.")
        if staff and not user.is_staff:
            raise CommandError(f"{email} is not staff: a staff token needs a staff user.")
        token, raw = create_token(user=user, name=name or "command line", staff=staff)
        kind = "Staff token" if staff else "Token"
        self.stderr.write(f"{kind} {token.name!r} for {user.email} (shown only once):")
        self.stdout.write(raw)

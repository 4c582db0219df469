"""`renewals demo`: migrate, load the demo data once, print the logins and serve the portal."""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from renewals.accounts.models import User
from renewals.core import clock
from renewals.operations import demo_data, served_at
from renewals.subscriptions.importing import import_bytes


class Command(BaseCommand):
    help = (
        "Set up the demo database and serve the portal on http://127.0.0.1:8000 "
        "(or --addrport / make demo PORT=8001)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="load the data and stop")
        parser.add_argument("--reset", action="store_true", help="erase the database and reload")
        parser.add_argument(
            "--addrport", default="127.0.0.1:8000", help="where to serve: PORT or HOST:PORT"
        )

    def handle(self, *args, no_serve, reset, addrport, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if reset:
            call_command("flush", interactive=False, verbosity=0)
        if User.objects.filter(email=demo_data.STAFF_EMAIL).exists():
            self.stdout.write("The demo data is already loaded (use --reset to rebuild it).")
        else:
            self.load(clock.today())
        self.print_logins()
        if not no_serve:
            self.serve(addrport)

    def load(self, today):
        with transaction.atomic():
            result = import_bytes(demo_data.demo_file(today), today=today, actor_label="demo")
            if result.errors:
                raise CommandError("the demo data set is invalid:\n" + "\n".join(result.errors))
            User.objects.create_superuser(
                demo_data.STAFF_EMAIL, demo_data.STAFF_PASSWORD, name="Vendor staff"
            )
        counts = result.summary.as_dict()
        self.stdout.write(
            f"Loaded the demo data for {today.isoformat()}: "
            f"{counts['customers']['created']} customers, "
            f"{counts['subscriptions']['created']} subscriptions."
        )

    def print_logins(self):
        self.stdout.write("Demo logins (portal at /, back office at /admin/):")
        for email, password, who in demo_data.logins():
            self.stdout.write(f"  {email:34} {password:16} {who}")

    def serve(self, addrport):
        if not (os.environ.get("EMAIL_URL") or os.environ.get("EMAIL_HOST")):
            settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
        if not os.environ.get("PORTAL_BASE_URL"):
            # Links in the demo's emails must lead to the server actually started, also those
            # sent by commands run in another terminal (`renewals sandbox pay`).
            host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
            settings.PORTAL_BASE_URL = f"http://{host}"
            served_at.record(settings.PORTAL_BASE_URL)
        try:
            from renewals.lifecycle.in_process import start_in_process, tick
        except ImportError:
            self.stderr.write("Background jobs are not available in this build; serving only.")
        else:
            # Today's daily run and its emails first (printed above), then the logins again so
            # that they are the last thing on the console before the server starts.
            tick()
            self.stdout.write("")
            self.print_logins()
            start_in_process()
        url = settings.PORTAL_BASE_URL
        self.stdout.write(f"Portal: {url}/   API docs: {url}/api/v1/docs")
        if os.environ.get("RENEWALS_TODAY", "").strip():
            day = clock.today().isoformat()
            self.stdout.write(f"Business date frozen on {day} (RENEWALS_TODAY).")
        call_command("runserver", addrport, use_reloader=False)

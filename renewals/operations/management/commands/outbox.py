"""`renewals outbox [--watch SECONDS]`: deliver the emails that are due (R15), safe to repeat.

Without a broker, schedule it (cron, a systemd timer) every few minutes next to
`renewals daily`: it retries what the web process could not send and takes over emails whose
sender died (docs/daily-run.md).
"""

import time

from django.core.management.base import BaseCommand

from renewals.notifications import outbox


class Command(BaseCommand):
    help = "Deliver the outbox emails that are due: retries and abandoned sends (R15)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--watch",
            type=float,
            default=0,
            metavar="SECONDS",
            help="keep sweeping every SECONDS instead of once",
        )

    def handle(self, *args, **options):
        while True:
            counts = outbox.deliver_due()
            summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            self.stdout.write(f"Outbox: {summary or 'nothing due'}")
            if options["watch"] <= 0:
                return
            time.sleep(options["watch"])

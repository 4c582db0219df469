"""`renewals show SUBSCRIPTION_ID [--date YYYY-MM-DD]`: the subscription as its purchaser sees it."""

import json

from django.core.management.base import BaseCommand, CommandError

from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.shapes import subscription_json
from renewals.subscriptions.models import Subscription


class Command(BaseCommand):
    help = "Print one subscription as the API shows it to its purchaser on a date (default today)."
    # A read-only command: the system checks (which import every URLconf and view) would be
    # most of its start-up (#15, bench.startup); `renewals check` runs them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("subscription_id")
        parser.add_argument("--date", help="the business date, YYYY-MM-DD (default: today)")

    def handle(self, *args, subscription_id, date=None, **options):
        try:
            today = clock.parse_date(date) if date else clock.today()
        except clock.ClockError as exc:
            raise CommandError(f"--date: {exc}") from None
        sub = (
            Subscription.objects.select_related(
                "customer", "offering", "purchaser", "partner", "card"
            )
            .prefetch_related("terms")
            .filter(pk=subscription_id)
            .first()
        )
        if sub is None:
            raise CommandError(f"no subscription with id {subscription_id!r}")
        offer = renewal_offers([sub], user=sub.purchaser, today=today)[sub.pk]
        self.stdout.write(json.dumps(subscription_json(sub, offer), indent=2, ensure_ascii=False))

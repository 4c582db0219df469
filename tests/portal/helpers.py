"""Shared builders for the portal page tests."""

from datetime import date, timedelta

from renewals.accounts.models import Customer, User
from renewals.catalog.models import Offering
from renewals.subscriptions import periods
from renewals.subscriptions.models import Subscription


def bulk_subscriptions(
    count: int, *, customer: Customer, offering: Offering, purchaser: User, first_d: date
):
    """Insert `count` annual subscriptions in one statement, D spread over the days after `first_d`."""
    rows = []
    for n in range(count):
        d = first_d + timedelta(days=n % 400)
        rows.append(
            Subscription(
                id=f"BULK-{n:06d}",
                customer=customer,
                offering=offering,
                term="annual",
                seats=1 + n % 5,
                currency="EUR",
                start_date=periods.previous_renewal_date(d, "annual", d.day),
                renewal_date=d,
                lapse_date=d,
                auto_renew=n % 2 == 0,
                purchase_method="online",
                payment_method="invoice",
                purchaser=purchaser,
            )
        )
    Subscription.objects.bulk_create(rows, batch_size=2000)

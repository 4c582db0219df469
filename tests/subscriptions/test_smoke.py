from datetime import date

import pytest

from renewals.checkout.offers import renewal_offers
from renewals.subscriptions.actions import renew_subscriptions
from tests.factories import priced_subscription


@pytest.mark.django_db
def test_a_renewal_moves_the_date_one_term_and_keeps_the_anchor():
    sub = priced_subscription(renewal_date=date(2027, 1, 31), term="monthly")
    offer = renewal_offers([sub], user=sub.purchaser, today=date(2027, 1, 5))[sub.pk]
    assert offer.eligible
    assert offer.next_term == (date(2027, 1, 31), date(2027, 2, 28))
    renew_subscriptions(
        [(sub.pk, date(2027, 1, 31))], source="order", order_number="O-1", today=date(2027, 1, 20)
    )
    sub.refresh_from_db()
    assert sub.renewal_date == date(2027, 2, 28)

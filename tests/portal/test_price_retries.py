"""R6's rule for retries: a renewal by hand while the failed automatic charge of that term still
has retries to come keeps the special renewal price; once the retries are over it is the list
price. The subscription page says which price applies and why."""

from datetime import date, timedelta

import pytest

from renewals.checkout.offers import renewal_offers
from renewals.checkout.orders import order_failed
from renewals.subscriptions import rules
from renewals.subscriptions.models import Subscription
from tests.factories import UserFactory, priced_subscription
from tests.payments.helpers import order_for

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)
RETRIES = (1, 3, 7)  # the default AUTO_RENEW_RETRY_DAYS: last retry on D + 7


@pytest.mark.parametrize(
    "failed, auto_renew, today, expected",
    [
        (True, True, D, True),
        (True, True, D + timedelta(days=7), True),  # the last retry day
        (True, True, D + timedelta(days=8), False),  # retries over
        (True, False, D + timedelta(days=1), False),  # auto-renew turned off: no retry comes
        (False, True, D + timedelta(days=1), False),  # nothing failed
    ],
)
def test_retries_pending_table(failed, auto_renew, today, expected):
    assert (
        rules.retries_pending(
            renewal_date=D,
            auto_renew=auto_renew,
            failed_automatic=failed,
            today=today,
            retry_days=RETRIES,
        )
        is expected
    )


@pytest.mark.parametrize(
    "term, retrying, today, expected",
    [
        ("annual", True, D + timedelta(days=2), "renewal"),
        ("annual", False, D + timedelta(days=2), "list"),
        ("three_year", True, D + timedelta(days=7), "renewal"),
        ("monthly", True, D + timedelta(days=2), "list"),  # monthly terms: list price always
    ],
)
def test_price_kind_with_retries(term, retrying, today, expected):
    kind = rules.price_kind(
        term=term, renewal_date=D, automatic=False, today=today, retrying=retrying
    )
    assert kind == expected


def _failed_automatic_charge(day):
    user = UserFactory(language="en")
    sub = priced_subscription(
        id="SUB-RETRY",
        purchaser=user,
        renewal_date=D,
        auto_renew=True,
        payment_method="card",
        list_price="2100.00",
        renewal_price="1890.00",
    )
    order = order_for([sub], automatic=True, today=D)
    order_failed(order.pk, failure_code="card_declined")
    return user, Subscription.objects.get(pk=sub.pk)


def test_manual_renewal_during_retries_keeps_the_renewal_price(client, frozen_today):
    today = frozen_today(D + timedelta(days=2))
    user, sub = _failed_automatic_charge(today)

    offer = renewal_offers([sub], user=user, today=today)[sub.pk]

    assert (offer.price_kind, str(offer.unit_price.amount)) == ("renewal", "1890.00")
    client.force_login(user)
    html = client.get(f"/billing/subscriptions/{sub.pk}/").content.decode()
    assert "The special renewal price still applies: the automatic charge of this term" in html


def test_after_the_last_retry_a_manual_renewal_pays_the_list_price(client, frozen_today):
    today = frozen_today(D + timedelta(days=8))
    user, sub = _failed_automatic_charge(today)

    offer = renewal_offers([sub], user=user, today=today)[sub.pk]

    assert (offer.price_kind, str(offer.unit_price.amount)) == ("list", "2100.00")
    client.force_login(user)
    html = client.get(f"/billing/subscriptions/{sub.pk}/").content.decode()
    assert "The special renewal price applied until the renewal date, 31 March 2027" in html


def test_without_a_failed_charge_after_d_it_is_the_list_price(frozen_today):
    today = frozen_today(D + timedelta(days=2))
    sub = priced_subscription(renewal_date=D, auto_renew=True, list_price="2100.00")
    offer = renewal_offers([sub], user=sub.purchaser, today=today)[sub.pk]
    assert offer.price_kind == "list"

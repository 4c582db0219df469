"""What the customer reads on the portal is words in their language, never a stored code (R17)."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import Order
from tests.acceptance.test_done_when import _pay_group
from tests.factories import CustomerFactory, TaxRateFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db


def test_a_declined_payment_is_explained_in_words_on_the_summary(client, frozen_today):
    frozen_today(date(2027, 3, 1))
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    marie = UserFactory(language="fr")
    client.force_login(marie)
    customer = CustomerFactory(csn="5100000001", country="FR")
    priced_subscription(
        id="SUB-1", purchaser=marie, customer=customer, renewal_date=date(2027, 3, 31)
    )
    client.post("/billing/subscriptions/SUB-1/renew/")
    _pay_group(
        client,
        "5100000001:EUR:online",
        method="card",
        card="new",
        card_number="4000 0000 0000 0002",
    )
    order = Order.objects.get()
    assert (order.status, order.payment.failure_code) == ("failed", "card_declined")

    html = client.get("/").content.decode()
    assert f'data-testid="failure-{order.number}">Votre carte a été refusée.<' in html
    assert "card_declined" not in html
    assert 'href="/billing/orders/' + order.number in html

"""Renewing in a real Chromium (R7, R9, R10): pay by card, 3-D Secure, a declined card.

Uses the shared Playwright fixtures of tests/browser/conftest.py (`signed_in`).
"""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import CartLine, Order
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date(2027, 3, 1)


@pytest.fixture
def renewable(frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    customer = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    sub = priced_subscription(
        id="SUB-1001",
        purchaser=user,
        customer=customer,
        seats=3,
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    return user, sub


def _to_checkout(page, card_number):
    page.goto("/billing/subscriptions/SUB-1001/renew/")
    page.get_by_test_id("add-to-cart").click()
    page.wait_for_url("**/billing/cart/")
    page.get_by_test_id("checkout-5100000001:EUR:online").click()
    page.wait_for_url("**/billing/cart/checkout/**")
    assert (
        page.get_by_test_id("checkout-summary").get_by_test_id("total").inner_text() == "€6,804.00"
    )
    page.get_by_test_id("method-card").check()
    # The subscription's saved card is pre-selected (#17): this flow pays with a new card.
    page.get_by_test_id("card-new").check()
    page.get_by_test_id("card-number").fill(card_number)
    page.get_by_test_id("pay").click()


def test_renew_one_subscription_by_card_and_see_the_confirmation(renewable, signed_in):
    user, sub = renewable
    page = signed_in(user)
    _to_checkout(page, "4242 4242 4242 4242")
    page.wait_for_url("**/billing/orders/R-2027-*/")
    assert "Payment received. Your subscriptions are renewed." in page.content()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
    assert "31 March 2027 – 31 March 2028" in page.get_by_test_id("order-lines").inner_text()
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)
    assert CartLine.objects.count() == 0


def test_3d_secure_card_passes_the_challenge_and_renews(renewable, signed_in):
    user, sub = renewable
    page = signed_in(user)
    _to_checkout(page, "4000 0000 0000 3220")
    page.wait_for_url("**/sandbox/3ds/**")
    page.get_by_test_id("3ds-complete").click()
    page.wait_for_url("**/billing/orders/R-2027-*/")
    assert "Payment received. Your subscriptions are renewed." in page.content()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)


def test_declined_card_shows_the_reason_and_keeps_the_cart(renewable, signed_in):
    user, sub = renewable
    page = signed_in(user)
    _to_checkout(page, "4000 0000 0000 0002")
    error = page.get_by_test_id("checkout-error")
    error.wait_for()
    assert error.inner_text() == "Your card was declined."
    page.goto("/billing/cart/")
    assert page.get_by_test_id("line-SUB-1001").is_visible()
    assert Order.objects.get().status == "failed"
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2027, 3, 31)

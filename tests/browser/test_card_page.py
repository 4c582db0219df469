"""A new card through the gateway's own page in a real Chromium (R10), phone and desktop widths.

The sandbox payment page stands in for Stripe Checkout: the checkout form never takes the card.
0119 ("charged, answer lost") shows "we are confirming your payment", blocks a second order,
and ends paid once; a number that is not a test card is refused with words.
"""

import os
import time
from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments.models import SandboxPayment
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
WIDTHS = [390, 1366]
SHOTS = os.environ.get("RENEWALS_SCREENSHOTS", "")


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
        payment_method=None,
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    return user, sub


def shot(page, name, width):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{width}.png"), full_page=True)


def to_payment_page(page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/billing/subscriptions/SUB-1001/renew/")
    page.get_by_test_id("add-to-cart").click()
    page.wait_for_url("**/billing/cart/")
    page.get_by_test_id("checkout-5100000001:EUR:online").click()
    page.wait_for_url("**/billing/cart/checkout/**")
    page.get_by_test_id("method-card").check()
    assert page.get_by_test_id("new-card-note").is_visible()
    shot(page, "checkout", width)
    page.get_by_test_id("pay").click()
    page.wait_for_url("**/sandbox/pay/sbx_*/")


def pay(page, number):
    page.get_by_test_id("pay-card-number").fill(number)
    page.get_by_test_id("pay-expiry").fill("12/30")
    page.get_by_test_id("pay-cvc").fill("123")
    page.get_by_test_id("pay-submit").click()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_new_card_is_typed_on_the_payment_page_and_a_real_number_is_refused(
    renewable, signed_in, width
):
    user, sub = renewable
    page = signed_in(user)
    to_payment_page(page, width)
    shot(page, "payment-page", width)
    box = page.get_by_test_id("sandbox-pay").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width  # the page fits the phone
    pay(page, "4111 1111 1111 1111")
    assert "This card number is not accepted" in page.get_by_test_id("pay-error").inner_text()
    assert SandboxPayment.objects.get().card_number == ""
    shot(page, "payment-page-refused", width)
    pay(page, "4242 4242 4242 4242")
    page.wait_for_url("**/billing/orders/R-2027-*/")
    assert "Payment received. Your subscriptions are renewed." in page.content()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)


@pytest.mark.parametrize("width", WIDTHS)
def test_0119_is_confirmed_while_no_second_order_can_be_placed_then_paid_once(
    renewable, signed_in, width
):
    user, sub = renewable
    page = signed_in(user)
    to_payment_page(page, width)
    pay(page, "4000 0000 0000 0119")
    page.wait_for_url("**/billing/orders/R-2027-*/")
    assert page.get_by_test_id("order-status").inner_text() == "Confirming payment"
    assert "We are confirming your payment" in page.get_by_test_id("confirming").inner_text()
    assert "nothing was charged" not in page.content().lower()
    shot(page, "confirming", width)
    order_url = page.url
    # Meanwhile: the subscription cannot be renewed again.
    page.goto("/billing/subscriptions/SUB-1001/renew/")
    assert page.get_by_test_id("add-to-cart").count() == 0
    assert Order.objects.count() == 1
    # "Check again" asks the gateway: the charge is found, paid once, one confirmation.
    page.goto(order_url)
    time.sleep(3.1)  # the page asks the gateway at most every 3 seconds
    page.get_by_test_id("check-again").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-status").inner_text() == "Paid"
    shot(page, "confirmed", width)
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)
    assert Email.objects.filter(kind="order-confirmation").count() == 1

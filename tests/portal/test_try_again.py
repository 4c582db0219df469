"""Try again after a declined card or a failed 3-D Secure check (#17, R9, R10).

The failed order stays failed with its reason; *Try again* leads back to the cart, whose
checkout form carries a fresh idempotency key, so the next attempt is a new order that can
succeed. Replaying the failed attempt's form returns the failed order and charges nothing.
"""

import re
from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.models import CartLine, Order
from renewals.payments.models import Payment, SandboxPayment
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)
GROUP = "5100000001:EUR:online"
CHECKOUT = f"/billing/cart/checkout/{GROUP}/"
DECLINED, THREE_DS, GOOD = "4000000000000002", "4000000000003220", "4242424242424242"


@pytest.fixture
def buyer(client, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    customer = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    priced_subscription(
        id="SUB-1",
        purchaser=user,
        customer=customer,
        seats=3,
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )
    add_to_cart(user=user, subscription_ids=["SUB-1"], today=TODAY)
    return user


def _form(html: str, card: str) -> dict:
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', html).group(1)
    return {"idempotency_key": key, "expected_total": total, "method": "card", "card_number": card}


def _charged() -> int:
    return SandboxPayment.objects.filter(status="succeeded").count()


def test_after_a_decline_the_next_attempt_is_a_new_order_that_pays(client, buyer):
    first = _form(client.get(CHECKOUT).content.decode(), DECLINED)
    declined = client.post(CHECKOUT, first)
    failed = Order.objects.get()
    assert failed.status == "failed" and failed.failure_code == "card_declined"
    assert "Your card was declined." in declined.content.decode()

    second = _form(declined.content.decode(), GOOD)
    assert second["idempotency_key"] != first["idempotency_key"]
    paid = client.post(CHECKOUT, second)
    order = Order.objects.exclude(pk=failed.pk).get()
    assert paid["Location"] == f"/billing/orders/{order.number}/"
    assert order.status == "paid"
    failed.refresh_from_db()
    assert failed.status == "failed"  # the failed attempt is not rewritten
    assert _charged() == 1
    assert Subscription.objects.get(pk="SUB-1").renewal_date == date(2028, 3, 31)
    assert not CartLine.objects.exists()

    # The first form sent again (back button, double click): its order, no new charge.
    replay = client.post(CHECKOUT, first)
    assert replay.status_code == 302
    assert (Order.objects.count(), Payment.objects.count(), _charged()) == (2, 2, 1)
    assert Subscription.objects.get(pk="SUB-1").renewal_date == date(2028, 3, 31)


def test_a_failed_3ds_check_stays_on_its_order_with_try_again(client, buyer):
    start = client.post(CHECKOUT, _form(client.get(CHECKOUT).content.decode(), THREE_DS))
    back = client.post(start["Location"], {"answer": "fail"})
    shown = client.get(back["Location"], follow=True)
    failed = Order.objects.get()
    assert failed.status == "failed"
    page = shown.content.decode()
    assert shown.redirect_chain[-1][0] == f"/billing/orders/{failed.number}/"
    assert 'data-testid="try-again"' in page and 'href="/billing/cart/"' in page
    assert CartLine.objects.filter(subscription_id="SUB-1").exists()

    # Try again: the cart, its checkout (a new key), a good card.
    assert "SUB-1" in client.get("/billing/cart/").content.decode()
    again = _form(client.get(CHECKOUT).content.decode(), GOOD)
    paid = client.post(CHECKOUT, again)
    order = Order.objects.exclude(pk=failed.pk).get()
    assert paid["Location"] == f"/billing/orders/{order.number}/"
    assert order.status == "paid" and _charged() == 1
    assert Subscription.objects.get(pk="SUB-1").renewal_date == date(2028, 3, 31)

    # The failed order's page no longer offers Try again, and says a later order renewed it.
    old = client.get(f"/billing/orders/{failed.number}/").content.decode()
    assert 'data-testid="try-again"' not in old
    assert f"renewed by order {order.number}" in old
    # The Summary no longer raises the resolved failure as a payment error.
    summary = client.get("/").content.decode()
    assert f"Payment of order {failed.number} failed" not in summary


def test_the_summary_raises_a_failure_still_unresolved(client, buyer):
    client.post(CHECKOUT, _form(client.get(CHECKOUT).content.decode(), DECLINED))
    failed = Order.objects.get()
    summary = client.get("/").content.decode()
    assert f"Payment of order {failed.number} failed" in summary

"""R20: the customer's purchase-order number, given at checkout (API and portal), is kept on
the order and printed on its tax invoice; one that does not fit is refused and creates nothing.
"""

import re
from datetime import date

import pytest

from renewals.billing.models import Invoice
from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.models import Order
from tests.factories import TaxRateFactory, priced_subscription

from .conftest import TODAY, error_of

pytestmark = pytest.mark.django_db
GROUP = "5100000001:EUR:online"
CARD_OK = {"method": "card", "card_number": "4242424242424242"}


@pytest.fixture
def sub(user, customer, today):
    TaxRateFactory(country="FR", rate="0.20")
    return priced_subscription(
        id="SUB-PO", customer=customer, purchaser=user, renewal_date=date(2027, 1, 31)
    )


def checkout(api, body, key="po-key"):
    api.post(
        "/api/v1/cart/items", {"subscription_ids": ["SUB-PO"]}, content_type="application/json"
    )
    return api.post(
        "/api/v1/checkout", body, content_type="application/json", headers={"Idempotency-Key": key}
    )


def test_the_api_keeps_the_purchase_order_on_the_order_and_its_invoice(api, sub):
    response = checkout(api, {"group": GROUP, "payment": CARD_OK, "purchase_order": " BC-42 "})
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["purchase_order"] == "BC-42"
    invoice = Invoice.objects.get()
    assert invoice.purchase_order == "BC-42"
    assert api.get(f"/api/v1/invoices/{invoice.number}").json()["purchase_order"] == "BC-42"
    assert api.get(f"/api/v1/orders/{order['number']}").json()["purchase_order"] == "BC-42"
    # The same key with another purchase order is another request, not a replay.
    again = checkout(api, {"group": GROUP, "payment": CARD_OK, "purchase_order": "BC-43"})
    assert error_of(again)["code"] == "idempotency_mismatch" and Order.objects.count() == 1


@pytest.mark.parametrize("value", ["A" * 61, "BC\x0742", "BC\n42"])
def test_a_purchase_order_that_does_not_fit_is_422_and_creates_nothing(api, sub, value):
    response = checkout(api, {"group": GROUP, "payment": CARD_OK, "purchase_order": value})
    assert response.status_code == 422
    assert error_of(response)["code"] in ("invalid", "invalid_purchase_order")
    assert not Order.objects.exists() and not Invoice.objects.exists()


def test_the_portal_checkout_keeps_the_purchase_order(client, user, sub):
    client.force_login(user)
    add_to_cart(user=user, subscription_ids=["SUB-PO"], today=TODAY)
    page = client.get(f"/billing/cart/checkout/{GROUP}/").content.decode()
    assert 'name="purchase_order"' in page
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    form = {"idempotency_key": key, "expected_total": total, "method": "card"}
    refused = client.post(
        f"/billing/cart/checkout/{GROUP}/",
        {**form, "card_number": "4242424242424242", "purchase_order": "X" * 61},
        follow=True,
    )
    assert "at most 60 printable characters" in refused.content.decode()
    assert not Order.objects.exists()
    page = client.get(f"/billing/cart/checkout/{GROUP}/").content.decode()
    form["idempotency_key"] = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(
        1
    )
    client.post(
        f"/billing/cart/checkout/{GROUP}/",
        {**form, "card_number": "4242424242424242", "purchase_order": "BC-2027-7"},
    )
    order = Order.objects.get()
    assert (order.status, order.purchase_order) == ("paid", "BC-2027-7")
    invoice = Invoice.objects.get()
    assert invoice.purchase_order == "BC-2027-7"
    assert "BC-2027-7" in client.get(f"/billing/invoices/{invoice.number}/").content.decode()

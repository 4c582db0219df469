"""Orders list and detail pages (R9, R17): scoping, totals, instructions, invoice."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.offers import renewal_offers
from renewals.checkout.orders import create_order, order_paid
from renewals.payments.checkout import place_order
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)


@pytest.fixture
def buyer(client, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


def _paid_order(buyer, customer, sub_id, **kwargs):
    sub = priced_subscription(id=sub_id, purchaser=buyer, customer=customer, **kwargs)
    offers = renewal_offers([sub], user=buyer, today=TODAY)
    order = create_order(
        customer=customer,
        currency=sub.currency,
        purchase_method="online",
        payment_method="card",
        offers=[offers[sub.pk]],
        placed_by=buyer,
        automatic=False,
        business_date=TODAY,
    )
    order_paid(order.pk, today=TODAY)
    return order


def test_order_detail_shows_lines_terms_and_totals(client, buyer):
    customer = CustomerFactory(csn="5100000001", country="FR")
    order = _paid_order(buyer, customer, "SUB-1", seats=3, offering=OfferingFactory(name="AutoCAD"))
    html = client.get(f"/billing/orders/{order.number}/").content.decode()
    assert "AutoCAD" in html and "SUB-1" in html
    assert "31 March 2027 – 31 March 2028" in html
    assert "€1,890.00" in html and "€5,670.00" in html and "€1,134.00" in html
    assert "€6,804.00" in html
    assert "Special renewal price" in html
    assert "Paid" in html


def test_reverse_charge_note_on_the_order(client, buyer):
    de = CustomerFactory(country="DE", vat_id="DE1", vat_id_validated=True)
    order = _paid_order(buyer, de, "SUB-DE", seats=1)
    html = client.get(f"/billing/orders/{order.number}/").content.decode()
    assert "Reverse charge: VAT to be accounted for by the recipient" in html


def test_another_customers_order_is_404(client, buyer):
    other = UserFactory()
    order = _paid_order(other, CustomerFactory(), "THEIRS")
    assert client.get(f"/billing/orders/{order.number}/").status_code == 404
    assert order.number not in client.get("/billing/orders/").content.decode()


def test_admin_of_the_customer_sees_its_orders(client, buyer):
    customer = CustomerFactory()
    order = _paid_order(UserFactory(), customer, "SUB-ADM")
    MembershipFactory(user=buyer, customer=customer)
    assert client.get(f"/billing/orders/{order.number}/").status_code == 200
    assert order.number in client.get("/billing/orders/").content.decode()


def test_unknown_or_overlong_number_is_404(client, buyer):
    assert client.get("/billing/orders/R-2027-999999/").status_code == 404
    assert client.get("/billing/orders/" + "X" * 300 + "/").status_code == 404


def test_orders_list_is_paginated_in_fixed_queries(client, buyer, django_assert_max_num_queries):
    customer = CustomerFactory()
    offering = OfferingFactory()
    numbers = [
        _paid_order(buyer, customer, f"SUB-{i:02d}", offering=offering).number for i in range(30)
    ]
    with django_assert_max_num_queries(8):
        first = client.get("/billing/orders/").content.decode()
    assert first.count('data-testid="order-R-') == 25
    assert numbers[-1] in first  # newest first
    second = client.get("/billing/orders/?page=2").content.decode()
    assert second.count('data-testid="order-R-') == 5
    assert client.get("/billing/orders/?page=zzz").status_code == 200


def test_konbini_order_page_shows_the_instructions(client, buyer):
    jp = CustomerFactory(csn="5200000002", country="JP")
    sub = priced_subscription(
        id="SUB-JP",
        purchaser=buyer,
        customer=jp,
        currency="JPY",
        seats=1,
        list_price="52800",
        renewal_price="48000",
    )
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    order, _ = place_order(
        user=buyer,
        group_key="5200000002:JPY:online",
        payment={"method": "konbini"},
        idempotency_key="k1",
        expected_total=None,
        today=TODAY,
    )
    html = client.get(f"/billing/orders/{order.number}/").content.decode()
    assert 'data-testid="payment-instructions"' in html
    assert order.payment.instructions["konbini"]["payment_code"] in html
    assert "￥52,800" in html or "¥52,800" in html


def test_invoice_order_links_its_invoice(client, buyer):
    customer = CustomerFactory(csn="5100000009", country="FR")
    sub = priced_subscription(
        id="SUB-INV",
        purchaser=buyer,
        customer=customer,
        purchase_method="invoice",
        payment_method="invoice",
    )
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    order, _ = place_order(
        user=buyer,
        group_key="5100000009:EUR:invoice",
        payment={"method": "invoice"},
        idempotency_key="k1",
        expected_total=None,
        today=TODAY,
    )
    assert order.status == "invoiced"  # R9: never "paid" while its invoice is unpaid
    html = client.get(f"/billing/orders/{order.number}/").content.decode()
    assert f"/billing/invoices/{order.invoice.number}.pdf" in html
    assert "Invoiced, awaiting payment" in html and "it is not paid yet" in html
    assert "Succeeded" not in html and "Paid on" not in html


def test_3ds_return_while_the_gateway_is_down_is_not_a_500(client, buyer, monkeypatch):
    customer = CustomerFactory(csn="5100000001", country="FR")
    sub = priced_subscription(id="SUB-3DS", purchaser=buyer, customer=customer)
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    order, _ = place_order(
        user=buyer,
        group_key="5100000001:EUR:online",
        payment={"method": "card", "card_number": "4000000000003220"},
        idempotency_key="k1",
        expected_total=None,
        today=TODAY,
    )
    assert order.status == "requires_action"

    def unreachable(reference):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(
        "renewals.payments.gateways.sandbox.SandboxGateway.retrieve_payment",
        lambda self, reference: unreachable(reference),
    )
    monkeypatch.setattr(
        "renewals.payments.gateways.sandbox.SandboxGateway.find_payment",
        lambda self, key: unreachable(key),
    )
    response = client.get(f"/billing/orders/{order.number}/?return=1", follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    # R10: a lost answer is confirmed, never reported as "nothing was charged".
    assert "We are confirming your payment" in page
    assert "nothing was charged" not in page.lower()
    order.refresh_from_db()
    assert order.status == "confirming"

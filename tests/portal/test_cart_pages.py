"""Renew, cart and checkout pages (R5, R6, R7, R9, R10)."""

import re
from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.models import CartLine, Order
from renewals.notifications.models import Email
from renewals.payments.models import Payment
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


@pytest.fixture
def buyer(client, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


@pytest.fixture
def sub(buyer):
    customer = CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")
    return priced_subscription(
        id="SUB-1",
        purchaser=buyer,
        customer=customer,
        seats=3,
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )


def _form(response):
    html = response.content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', html).group(1)
    return key, total


def test_renew_page_shows_price_and_new_term(client, sub):
    response = client.get("/billing/subscriptions/SUB-1/renew/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Special renewal price" in html
    assert "€1,890.00 × 3" in html and "€5,670.00" in html
    assert "31 March 2027" in html and "31 March 2028" in html
    assert 'data-testid="add-to-cart"' in html


def test_renew_page_explains_why_not(client, buyer):
    early = priced_subscription(id="SUB-E", purchaser=buyer, renewal_date=date(2027, 9, 1))
    html = client.get("/billing/subscriptions/SUB-E/renew/").content.decode()
    assert "Renewal opens on 3 June 2027." in html
    assert 'data-testid="add-to-cart"' not in html
    assert early.pk == "SUB-E"


def test_renew_post_adds_to_cart_and_redirects_to_cart(client, sub):
    response = client.post("/billing/subscriptions/SUB-1/renew/")
    assert (response.status_code, response["Location"]) == (302, "/billing/cart/")
    assert list(CartLine.objects.values_list("subscription_id", flat=True)) == ["SUB-1"]


def test_renew_post_of_ineligible_adds_nothing_and_says_why(client, buyer):
    priced_subscription(id="SUB-T", purchaser=buyer, trial=True)
    response = client.post("/billing/subscriptions/SUB-T/renew/", follow=True)
    assert CartLine.objects.count() == 0
    assert "A trial cannot be renewed." in response.content.decode()


def test_another_users_renew_page_is_404(client, buyer):
    priced_subscription(id="THEIRS")
    assert client.get("/billing/subscriptions/THEIRS/renew/").status_code == 404
    assert client.post("/billing/subscriptions/THEIRS/renew/").status_code == 404
    assert CartLine.objects.count() == 0


def test_cart_page_shows_groups_lines_and_totals(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    html = client.get("/billing/cart/").content.decode()
    assert f'data-testid="group-{GROUP}"' in html
    assert "AutoCAD" in html and "SUB-1" in html
    assert "€5,670.00" in html  # subtotal
    assert "€1,134.00" in html  # tax 20 %
    assert "€6,804.00" in html  # total
    assert CHECKOUT in html


def test_cart_survives_sign_out(client, buyer, sub):
    client.post("/billing/subscriptions/SUB-1/renew/")
    client.logout()
    client.force_login(buyer)
    assert "SUB-1" in client.get("/billing/cart/").content.decode()


def test_bulk_add_reports_each_rejection(client, buyer, sub):
    priced_subscription(id="SUB-T", purchaser=buyer, trial=True)
    response = client.post(
        "/billing/cart/add/", {"subscription_ids": ["SUB-1", "SUB-T", "NOPE"]}, follow=True
    )
    html = response.content.decode()
    assert "1 subscription added to your cart." in html
    assert "SUB-T: A trial cannot be renewed." in html
    assert "NOPE: subscription not found." in html


def test_101st_is_refused_with_a_clear_message(client, buyer):
    offering = OfferingFactory()
    customer = CustomerFactory()
    subs = [
        priced_subscription(id=f"S-{i:03d}", purchaser=buyer, customer=customer, offering=offering)
        for i in range(101)
    ]
    add_to_cart(user=buyer, subscription_ids=[s.pk for s in subs[:100]], today=TODAY)
    response = client.post("/billing/subscriptions/S-100/renew/", follow=True)
    assert "A cart holds at most 100 subscriptions. Nothing was added" in response.content.decode()
    assert CartLine.objects.count() == 100


def test_cart_page_of_100_lines_takes_fixed_queries(client, buyer, django_assert_max_num_queries):
    offering = OfferingFactory()
    customer = CustomerFactory()
    subs = [
        priced_subscription(id=f"S-{i:03d}", purchaser=buyer, customer=customer, offering=offering)
        for i in range(100)
    ]
    add_to_cart(user=buyer, subscription_ids=[s.pk for s in subs], today=TODAY)
    with django_assert_max_num_queries(12):
        response = client.get("/billing/cart/")
    assert response.content.decode().count('data-testid="line-') == 100


def test_remove_line(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    client.post("/billing/cart/remove/SUB-1/")
    assert CartLine.objects.count() == 0


def test_checkout_page_shows_methods_key_and_total(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    response = client.get(CHECKOUT)
    key, total = _form(response)
    html = response.content.decode()
    assert total == "6804.00"
    assert len(key) == 32
    assert 'data-testid="method-card"' in html and 'data-testid="method-konbini"' not in html
    assert "Save this card for automatic renewals" in html


@pytest.mark.parametrize(
    "key", ["bogus", "5100000001:EUR", "9999:EUR:online", "5100000001:JPY:online"]
)
def test_tampered_checkout_key_is_404(client, buyer, sub, key):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    assert client.get(f"/billing/cart/checkout/{key}/").status_code == 404


def test_paying_by_card_shows_the_order_with_success(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    form = {
        "idempotency_key": key,
        "expected_total": total,
        "method": "card",
        "card_number": "4242 4242 4242 4242",
    }
    response = client.post(CHECKOUT, form)
    order = Order.objects.get()
    assert response["Location"] == f"/billing/orders/{order.number}/"
    page = client.get(response["Location"]).content.decode()
    assert "Payment received. Your subscriptions are renewed." in page
    # a double submit of the same form returns the same order: one charge
    again = client.post(CHECKOUT, form)
    assert again["Location"] == f"/billing/orders/{order.number}/"
    assert (Order.objects.count(), Payment.objects.count()) == (1, 1)
    assert Subscription.objects.get(pk="SUB-1").renewal_date == date(2028, 3, 31)
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_declined_card_returns_to_checkout_with_the_reason_and_cart_intact(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": total,
            "method": "card",
            "card_number": "4000000000000002",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your card was declined." in html
    assert CartLine.objects.count() == 1
    assert _form(response)[0] != key  # a fresh key for the next attempt
    assert Subscription.objects.get(pk="SUB-1").renewal_date == date(2027, 3, 31)


def test_insufficient_funds_in_words(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": total,
            "method": "card",
            "card_number": "4000000000009995",
        },
    )
    assert "Your card has insufficient funds." in response.content.decode()


def test_3ds_card_redirects_to_the_challenge(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": total,
            "method": "card",
            "card_number": "4000000000003220",
        },
    )
    payment = Payment.objects.get()
    assert response["Location"] == f"/sandbox/3ds/{payment.reference}/"
    # passing the challenge sends the customer back to the order, paid
    back = client.post(response["Location"], {"answer": "complete"})
    assert back["Location"] == f"/billing/orders/{payment.order.number}/?return=1"
    shown = client.get(back["Location"], follow=True).content.decode()
    assert "Payment received. Your subscriptions are renewed." in shown
    assert Subscription.objects.get(pk="SUB-1").renewal_date == date(2028, 3, 31)


def test_a_typed_test_number_pays_as_a_new_card_even_with_the_saved_card_selected(
    client, buyer, sub
):
    # The form pre-selects the subscription's saved card (#17); a number typed beside it means
    # the customer wants a new card, so the number is not silently ignored.
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": total,
            "method": "card",
            "card": str(sub.card_id),
            "card_number": "4000 0000 0000 3220",
        },
    )
    payment = Payment.objects.get()
    assert response["Location"] == f"/sandbox/3ds/{payment.reference}/"


def test_the_saved_card_pays_when_no_number_is_typed(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": total,
            "method": "card",
            "card": str(sub.card_id),
            "card_number": "",
        },
    )
    payment = Payment.objects.get()
    assert response["Location"] == f"/billing/orders/{payment.order.number}/"
    assert payment.order.status == "paid"


def test_changed_price_is_refused_and_the_new_total_shown(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, _total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": "5000.00",
            "method": "card",
            "card_number": "4242424242424242",
        },
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "The new total is €6,804.00" in html
    assert Order.objects.count() == 0
    assert _form(response)[1] == "6804.00"


def test_bad_card_number_keeps_the_cart_and_says_what_to_do(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    key, total = _form(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "expected_total": total,
            "method": "card",
            "card_number": "4111 1111 1111 1111",  # a real-looking number, not a test one
        },
    )
    assert response.status_code == 422
    assert "Card numbers are not taken on this form" in response.content.decode()
    assert (Order.objects.count(), CartLine.objects.count()) == (0, 1)


def test_malformed_checkout_post_is_not_a_500(client, buyer, sub):
    add_to_cart(user=buyer, subscription_ids=["SUB-1"], today=TODAY)
    response = client.post(CHECKOUT, {"expected_total": "abc", "method": "zzz"})
    assert response.status_code in (400, 422)
    assert Order.objects.count() == 0


def test_another_users_checkout_group_is_404(client, sub):
    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(CHECKOUT).status_code == 404
    response = client.post(
        CHECKOUT, {"idempotency_key": "k", "method": "card", "card_number": "4242424242424242"}
    )
    assert response.status_code in (302, 404)
    assert Order.objects.count() == 0

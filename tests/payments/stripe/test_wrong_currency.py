"""Stripe money in another currency than the order's settles nothing (R10, #11).

The events are Stripe's shapes (checked against the OpenAPI subset by the fake): a
PaymentIntent or Checkout Session whose `currency` is not the payment's is recorded as funds
for staff, the payment flagged, the answer 200 (Stripe stops retrying), nothing renewed.
"""

from datetime import date

import pytest

from renewals.checkout.models import Order
from renewals.payments.models import CustomerFunds
from renewals.subscriptions.models import Subscription

from ..helpers import TODAY, eur_subscription, jpy_subscriptions, order_for
from .test_checkout import checkout, post

pytestmark = pytest.mark.django_db


def test_a_konbini_intent_succeeded_in_dollars_is_flagged_not_paid(client, fake_stripe):
    from renewals.payments import actions

    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    intent = dict(fake_stripe.intents[payment.reference], status="succeeded", currency="usd")
    intent["amount_received"] = intent["amount"]
    delivery = fake_stripe.event("payment_intent.succeeded", intent)
    answer = post(client, delivery)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
    assert post(client, delivery).json()["duplicate"] is True
    payment.refresh_from_db()
    assert (payment.status, payment.needs_reconciliation, payment.received_amount) == (
        "pending",
        True,
        None,
    )
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    funds = CustomerFunds.objects.get()
    assert (funds.gateway, funds.status, funds.currency, funds.payment_id) == (
        "stripe",
        "flagged",
        "USD",
        payment.pk,
    )
    assert fake_stripe.violations == []


def test_a_checkout_session_paid_in_another_currency_renews_nothing(client, fake_stripe):
    sub = eur_subscription(payment_method=None)
    order = checkout(sub, {"method": "card"})
    fake_stripe.customer_pays_session(order.payment.reference)
    session = dict(fake_stripe.sessions[order.payment.reference], currency="gbp")
    answer = post(client, fake_stripe.event("checkout.session.completed", session))
    assert answer.status_code == 200
    assert Order.objects.get(pk=order.pk).status != "paid"
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2027, 3, 31)
    assert CustomerFunds.objects.get().currency == "GBP"
    # The same session in the order's currency pays it.
    session["currency"] = "eur"
    assert (
        post(client, fake_stripe.event("checkout.session.completed", session)).json()["outcome"]
        == "applied"
    )
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_a_partially_funded_transfer_in_another_currency_counts_for_nothing(client, fake_stripe):
    (sub,) = jpy_subscriptions()
    order = checkout(sub, {"method": "bank_transfer"})
    payment = order.payment
    intent = dict(fake_stripe.intents[payment.reference], currency="usd")
    intent["next_action"]["display_bank_transfer_instructions"]["amount_remaining"] = 200
    assert (
        post(client, fake_stripe.event("payment_intent.partially_funded", intent)).status_code
        == 200
    )
    payment.refresh_from_db()
    assert (payment.status, payment.received_amount, payment.needs_reconciliation) == (
        "pending",
        None,
        True,
    )
    funds = CustomerFunds.objects.get()
    assert (funds.currency, funds.amount, funds.payment_id) == ("USD", 130, payment.pk)
    assert fake_stripe.violations == []


def test_one_foreign_currency_checkout_payment_is_one_funds_row(client, fake_stripe):
    # Stripe reports a Checkout payment twice (the session's event and its PaymentIntent's):
    # the money is recorded once, so staff refund it once.
    from renewals.checkout.models import Order
    from tests.payments.helpers import eur_subscription
    from tests.payments.stripe.test_checkout import checkout, post

    sub = eur_subscription(payment_method=None)
    order = checkout(sub, {"method": "card"})
    intent = fake_stripe.customer_pays_session(order.payment.reference)
    session = dict(fake_stripe.sessions[order.payment.reference], currency="gbp")
    intent = dict(intent, currency="gbp")
    for response in (
        post(client, fake_stripe.event("checkout.session.completed", session)),
        post(client, fake_stripe.event("payment_intent.succeeded", intent)),
    ):
        assert response.status_code == 200
    assert Order.objects.get(pk=order.pk).status != "paid"
    (row,) = CustomerFunds.objects.all()
    assert (row.currency, row.status, row.payment_id) == ("GBP", "flagged", order.payment.pk)

"""Stripe end to end against the fake Stripe: Checkout for new cards, saved cards, konbini,
bank transfers on one Customer per CSN, webhooks with the metadata fallback (R9, R10)."""

import json
import re
from datetime import date

import pytest

from renewals.accounts.models import Card, Customer
from renewals.api.errors import STATUS
from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.grouping import group_key
from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments.checkout import place_order
from renewals.payments.collecting import return_from_gateway
from renewals.payments.models import GatewayCall, Payment
from renewals.subscriptions.models import Subscription

from ..helpers import TODAY, eur_subscription, jpy_subscriptions

pytestmark = pytest.mark.django_db


def checkout(sub, payment, key="key-1", user=None):
    user = user or sub.purchaser
    add_to_cart(user=user, subscription_ids=[sub.pk], today=TODAY)
    order, _created = place_order(
        user=user,
        group_key=group_key(sub.customer.csn, sub.currency, sub.purchase_method),
        payment=payment,
        idempotency_key=key,
        expected_total=None,
        today=TODAY,
        return_url="/billing/orders/{order}/?return=1",
    )
    return order


def post(client, delivery):
    body, signature = delivery
    return client.post(
        "/webhooks/stripe", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def test_a_new_card_goes_to_stripe_checkout_and_the_server_sees_only_ids(fake_stripe):
    sub = eur_subscription(payment_method=None)
    order = checkout(sub, {"method": "card", "save": True})
    payment = order.payment
    assert (order.status, payment.status) == ("requires_action", "requires_action")
    assert payment.reference.startswith("cs_test_")
    assert payment.action_url == f"https://checkout.stripe.com/c/pay/{payment.reference}"
    (session,) = fake_stripe.calls("create_session")
    params = session["params"]
    assert session["key"] == f"renewals-order-{order.number}"
    assert params["mode"] == "payment"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "680400"
    assert params["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert params["payment_intent_data"]["metadata"] == {
        "order": order.number,
        "idempotency_key": f"renewals-order-{order.number}",
    }
    assert params["success_url"] == (
        f"https://renewals.example/billing/orders/{order.number}/?return=1"
    )
    customer = Customer.objects.get(pk=sub.customer_id)
    assert customer.gateway_customer_id.startswith("cus_")
    assert params["customer"] == customer.gateway_customer_id
    # Nothing resembling a card number was sent (R10): only ids and amounts.
    assert not re.search(r"\d{12,}", json.dumps([r["params"] for r in fake_stripe.requests]))


def test_paying_on_checkout_then_returning_renews_once_and_saves_the_card(fake_stripe, client):
    sub = eur_subscription(payment_method=None)
    order = checkout(sub, {"method": "card", "save": True})
    intent = fake_stripe.customer_pays_session(order.payment.reference)
    payment = return_from_gateway(order.payment.pk, source="customer_return", today=TODAY)
    sub.refresh_from_db()
    assert payment.status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert sub.renewal_date == date(2028, 3, 31)
    assert sub.card.token == f"{intent['customer']}:{intent['payment_method']}"
    assert (sub.card.gateway, sub.card.last4, sub.card.brand) == ("stripe", "4242", "visa")
    # Stripe's events come after: the session's, then the PaymentIntent's (unknown id: matched
    # by its metadata). Nothing changes twice; one confirmation.
    session = fake_stripe.sessions[order.payment.reference]
    assert post(client, fake_stripe.event("checkout.session.completed", session)).status_code == 200
    answer = post(client, fake_stripe.event("payment_intent.succeeded", intent))
    assert answer.status_code == 200 and answer.json()["outcome"] == "no_change"
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_the_checkout_webhook_alone_pays_the_order(fake_stripe, client):
    sub = eur_subscription(payment_method=None)
    order = checkout(sub, {"method": "card"})
    fake_stripe.customer_pays_session(order.payment.reference)
    session = fake_stripe.sessions[order.payment.reference]
    delivery = fake_stripe.event("checkout.session.completed", session)
    assert post(client, delivery).json()["outcome"] == "applied"
    assert post(client, delivery).json()["duplicate"] is True
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)


def test_a_card_number_is_refused_with_stripe_and_nothing_is_written(fake_stripe):
    sub = eur_subscription()
    with pytest.raises(Exception) as refused:
        checkout(sub, {"method": "card", "card_number": "4242424242424242"})
    assert (refused.value.code, STATUS[refused.value.code]) == ("card_number_not_accepted", 422)
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert fake_stripe.requests == []


def test_one_stripe_customer_per_csn_for_cards_and_transfers(fake_stripe):
    first, second = jpy_subscriptions(2)
    checkout(first, {"method": "card"}, key="k1")
    checkout(second, {"method": "bank_transfer"}, key="k2")
    assert len(fake_stripe.calls("create_customer")) == 1
    customer = Customer.objects.get(pk=first.customer_id)
    (intent,) = fake_stripe.calls("create_intent")
    assert intent["params"]["customer"] == customer.gateway_customer_id
    assert intent["params"]["allowed_payment_method_types"] == ["customer_balance"]
    assert customer.bank_transfer_account["bank_name"] == "三井住友銀行"
    transfer = Order.objects.get(payment_method="bank_transfer").payment.instructions
    assert (
        transfer["bank_transfer"]["account_number"]
        == (customer.bank_transfer_account["account_number"])
    )
    created = GatewayCall.objects.filter(kind="ensure_customer").get()
    assert (created.outcome, created.customer_id) == ("succeeded", customer.pk)


def test_a_saved_card_is_charged_through_its_customer_off_session(fake_stripe):
    sub = eur_subscription()
    card = Card.objects.create(
        user=sub.purchaser, gateway="stripe", token="cus_Saved01:pm_card_visa", last4="4242"
    )
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    assert order.status == "paid"
    (call,) = fake_stripe.calls("create_intent")
    assert call["params"]["customer"] == "cus_Saved01"
    assert call["params"]["payment_method"] == "pm_card_visa"
    assert fake_stripe.calls("create_customer") == []


def test_a_declined_saved_card_fails_with_its_decline_code(fake_stripe):
    sub = eur_subscription()
    card = Card.objects.create(
        user=sub.purchaser,
        gateway="stripe",
        token="cus_X:pm_card_chargeDeclinedInsufficientFunds",
        last4="9995",
    )
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    assert (order.status, order.payment.failure_code) == ("failed", "insufficient_funds")


def test_konbini_voucher_then_webhook_renews_once(fake_stripe, client):
    (sub,) = jpy_subscriptions()
    order = checkout(sub, {"method": "konbini"})
    payment = order.payment
    assert payment.status == "pending"
    assert payment.instructions["konbini"]["payment_code"] == "123456"
    intent = fake_stripe.fund(payment.reference, fake_stripe.intents[payment.reference]["amount"])
    delivery = fake_stripe.event("payment_intent.succeeded", intent)
    for _ in range(2):
        assert post(client, delivery).status_code == 200
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def funded(fake_stripe, customer, amount, currency="jpy"):
    """The `customer_cash_balance_transaction.created` event of one arrival of money."""
    txn = fake_stripe.cash_balance_transaction(
        customer.gateway_customer_id, amount, currency=currency
    )
    return fake_stripe.event("customer_cash_balance_transaction.created", txn)


def test_funds_on_the_customer_balance_are_applied_to_the_matching_transfer(
    fake_stripe, client, django_capture_on_commit_callbacks
):
    (sub,) = jpy_subscriptions()
    order = checkout(sub, {"method": "bank_transfer"})
    customer = Customer.objects.get(pk=sub.customer_id)
    with django_capture_on_commit_callbacks(execute=True):
        answer = post(client, funded(fake_stripe, customer, 13200))
    assert answer.json()["outcome"] == "applying"
    (applied,) = fake_stripe.calls("apply_balance")
    assert applied["params"] == {"amount": "13200", "currency": "jpy"}
    assert Order.objects.get(pk=order.pk).status == "paid"
    funds = order.payment.customer_funds.get()
    assert funds.status == "applied" and funds.event_id.startswith("ccsbtxn_")


def test_funds_that_match_no_open_order_are_flagged_for_staff(fake_stripe, client):
    (sub,) = jpy_subscriptions()
    checkout(sub, {"method": "bank_transfer"})
    customer = Customer.objects.get(pk=sub.customer_id)
    answer = post(client, funded(fake_stripe, customer, 999))
    assert answer.json()["outcome"] == "flagged"
    from renewals.payments.models import CustomerFunds

    row = CustomerFunds.objects.get()
    assert (row.status, row.customer_id, str(row.amount)) == ("flagged", customer.pk, "999.000")
    assert fake_stripe.calls("apply_balance") == []

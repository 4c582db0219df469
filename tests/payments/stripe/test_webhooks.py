"""Stripe webhooks (R10): verified signatures, 3-D Secure on a saved card, failures."""

import json
import time

import pytest
import stripe

from renewals.accounts.models import Card
from renewals.checkout.models import Order
from renewals.payments.collecting import return_from_gateway
from renewals.payments.gateways.base import WebhookSignatureError
from renewals.payments.models import Payment, WebhookEvent

from ..helpers import TODAY, eur_subscription
from .fake import WEBHOOK_SECRET
from .test_checkout import checkout, post

pytestmark = pytest.mark.django_db


def three_d_secure_order(fake_stripe):
    sub = eur_subscription()
    card = Card.objects.create(
        user=sub.purchaser,
        gateway="stripe",
        token="cus_Saved01:pm_card_authenticationRequired",
        last4="3220",
    )
    return sub, checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})


def test_a_saved_card_asking_for_3d_secure_is_paid_on_the_customers_return(fake_stripe):
    sub, order = three_d_secure_order(fake_stripe)
    assert order.status == "requires_action"
    assert order.payment.action_url.startswith("https://hooks.stripe.com/3d_secure_2/")
    (call,) = fake_stripe.calls("create_intent")
    assert call["params"]["return_url"] == (
        f"https://renewals.example/billing/orders/{order.number}/?return=1"
    )
    fake_stripe.authenticate(order.payment.reference)
    assert (
        return_from_gateway(order.payment.pk, source="customer_return", today=TODAY).status
        == "succeeded"
    )
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_a_failed_3d_secure_event_fails_the_order_and_frees_the_term(fake_stripe, client):
    sub, order = three_d_secure_order(fake_stripe)
    intent = fake_stripe.authenticate(order.payment.reference, passed=False)
    answer = post(client, fake_stripe.event("payment_intent.payment_failed", intent))
    assert answer.json()["outcome"] == "applied"
    order.refresh_from_db()
    assert (order.status, order.failure_code) == ("failed", "payment_intent_authentication_failure")
    assert order.lines.get().holds_term is False


def signed(body: bytes, *, secret=WEBHOOK_SECRET, timestamp=None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return (
        f"t={ts},v1={stripe.WebhookSignature._compute_signature(f'{ts}.{body.decode()}', secret)}"
    )


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "unsigned", "tampered"])
def test_a_stripe_event_that_is_not_signed_by_stripe_changes_nothing(fake_stripe, client, case):
    sub, order = three_d_secure_order(fake_stripe)
    intent = fake_stripe.authenticate(order.payment.reference)
    body, signature = fake_stripe.event("payment_intent.succeeded", intent)
    if case == "wrong_secret":
        signature = signed(body, secret="whsec_other")
    elif case == "stale":
        signature = signed(body, timestamp=int(time.time()) - 301)
    elif case == "unsigned":
        signature = ""
    else:
        body = body.replace(b'"amount_received": 680400', b'"amount_received": 1')
    assert post(client, (body, signature)).status_code == 400
    assert Payment.objects.get().status == "requires_action"
    assert not WebhookEvent.objects.exists()


def test_parse_webhook_refuses_a_malformed_body(fake_stripe):
    body = b"not json"
    with pytest.raises(WebhookSignatureError):
        fake_stripe.gateway().parse_webhook(body, {"Stripe-Signature": signed(body)})


def test_an_event_for_no_payment_of_ours_is_refused_unstored(fake_stripe, client):
    intent = {**json.loads((__import__("pathlib").Path(__file__).parent / "fixtures" / "payment_intent.json").read_text()), "status": "succeeded", "amount_received": 2000, "metadata": {"order": "R-1999-000001", "idempotency_key": "renewals-order-R-1999-000001"}}  # fmt: skip
    answer = post(client, fake_stripe.event("payment_intent.succeeded", intent))
    assert answer.status_code == 404
    assert not WebhookEvent.objects.exists()

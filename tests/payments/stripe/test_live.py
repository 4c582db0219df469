"""Stripe in test mode, for real: runs only with STRIPE_API_KEY=sk_test_… (and network).

    STRIPE_API_KEY=sk_test_… .venv/bin/pytest -q tests/payments/stripe/test_live.py

Creates, in the test-mode account, a Customer, a Checkout Session and a confirmed PaymentIntent
with Stripe's test card `pm_card_visa`, then finds that PaymentIntent again by its idempotency
key as the reconciler would. Nothing here runs in the default suite or in CI.
"""

import os
import time

import pytest

from renewals.core.money import money
from renewals.payments.gateways.base import PaymentRequest
from renewals.payments.gateways.stripe import StripeGateway

KEY = os.environ.get("STRIPE_API_KEY", "")
pytestmark = pytest.mark.skipif(
    not KEY.startswith("sk_test_"),
    reason="live Stripe test: set STRIPE_API_KEY=sk_test_… (test mode only)",
)


def request(**kwargs):
    stamp = int(time.time())
    values = {
        "reference_hint": f"LIVE-{stamp}",
        "amount": money("12.34", "EUR"),
        "method": "card",
        "idempotency_key": f"renewals-live-test-{stamp}",
        "customer_email": "live-test@example.com",
        "return_url": "https://renewals.example/billing/orders/LIVE/?return=1",
    }
    return PaymentRequest(**{**values, **kwargs})


def test_live_customer_and_checkout_session():
    gateway = StripeGateway(api_key=KEY, webhook_secret="whsec_unused")
    customer = gateway.ensure_customer(
        csn=f"9{int(time.time())}", name="Live test", email="live-test@example.com"
    )
    assert customer.startswith("cus_")
    result = gateway.create_payment(request(gateway_customer_id=customer, save_card=True))
    assert result.outcome == "requires_action"
    assert result.reference.startswith("cs_test_")
    assert result.action_url.startswith("https://checkout.stripe.com/")
    assert gateway.retrieve_payment(result.reference).outcome == "requires_action"


def test_live_saved_test_card_charge_is_found_by_its_key():
    gateway = StripeGateway(api_key=KEY, webhook_secret="whsec_unused")
    req = request(card_token="pm_card_visa")
    result = gateway.create_payment(req)
    assert result.outcome == "succeeded" and result.reference.startswith("pi_")
    for _ in range(12):  # Stripe's search trails its writes by up to a minute
        found = gateway.find_payment(req.idempotency_key)
        if found is not None:
            break
        time.sleep(5)
    assert found is not None and found.reference == result.reference

"""Customer-balance funds whose applying never happened are applied by the reconciler (R10).

A `funded` cash-balance transaction is recorded (`CustomerFunds`, `applying`) and the call
that applies the balance runs after commit. If the process stops in between, nothing else would
ever make that call: the row stayed `applying` and the order waited for ever. The reconciler
(daily run) now makes it, with the same idempotency key, once.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from renewals.accounts.models import Customer
from renewals.checkout.models import Order
from renewals.payments.models import CustomerFunds
from renewals.payments.recovery import reconcile_stuck_payments, reconciled_count

from ..helpers import TODAY, jpy_subscriptions
from .test_checkout import checkout, funded, post

pytestmark = pytest.mark.django_db


def funds_left_applying(fake_stripe, client):
    (sub,) = jpy_subscriptions()
    order = checkout(sub, {"method": "bank_transfer"})
    customer = Customer.objects.get(pk=sub.customer_id)
    # The after-commit call never runs here: the process "stopped" after recording the funds.
    assert post(client, funded(fake_stripe, customer, 13200)).json()["outcome"] == "applying"
    assert CustomerFunds.objects.get().status == "applying"
    assert fake_stripe.calls("apply_balance") == []
    return order


def test_the_reconciler_applies_funds_left_applying_once(fake_stripe, client):
    order = funds_left_applying(fake_stripe, client)
    later = timezone.now() + timedelta(minutes=1)
    young = reconcile_stuck_payments(
        created_before=timezone.now() - timedelta(hours=1), today=TODAY
    )
    assert young["funds"] == 0 and fake_stripe.calls("apply_balance") == []  # still in flight
    first = reconcile_stuck_payments(created_before=later, today=TODAY)
    assert first["funds"] == 1 and reconciled_count(first) == 1
    assert reconcile_stuck_payments(created_before=later, today=TODAY)["funds"] == 0
    (applied,) = fake_stripe.calls("apply_balance")
    assert applied["key"].startswith("renewals-funds-stripe-ccsbtxn_")
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert CustomerFunds.objects.get().status == "applied"


def test_a_lost_answer_after_stripe_applied_the_funds_settles_them_applied(fake_stripe, client):
    order = funds_left_applying(fake_stripe, client)
    fake_stripe.fail("apply_balance", "timeout", after=True, times=10)
    counts = reconcile_stuck_payments(
        created_before=timezone.now() + timedelta(minutes=1), today=TODAY
    )
    assert counts["funds"] == 1
    funds = CustomerFunds.objects.get()
    # Stripe did apply it (only the answer was lost): the payment says so, nothing for staff.
    assert funds.status == "applied" and "unknown" in funds.note
    assert len(fake_stripe.charges()) == 1
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_no_answer_at_all_leaves_the_funds_being_applied_for_the_next_run(fake_stripe, client):
    order = funds_left_applying(fake_stripe, client)
    fake_stripe.fail("apply_balance", "timeout", times=10)
    fake_stripe.fail("retrieve_intent", "500", times=10)
    later = timezone.now() + timedelta(minutes=1)
    assert reconcile_stuck_payments(created_before=later, today=TODAY)["funds"] == 0
    assert CustomerFunds.objects.get().status == "applying"  # never flagged on a guess
    fake_stripe.faults.clear()
    assert reconcile_stuck_payments(created_before=later, today=TODAY)["funds"] == 1
    assert CustomerFunds.objects.get().status == "applied"
    assert Order.objects.get(pk=order.pk).status == "paid" and len(fake_stripe.charges()) == 1

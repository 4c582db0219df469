"""Fault injection (R10): every Stripe call can time out after it succeeded.

Connection errors, time-outs, 500s and 429s — before or after Stripe did the work — for the
checkout, the return from Stripe's page, and the off-session auto-renewal with its retries.
Whatever is lost: one charge, one renewal, one email, and money never left unflagged.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from renewals.accounts.models import Card
from renewals.checkout.models import Order
from renewals.core.errors import DomainError
from renewals.lifecycle import daily
from renewals.lifecycle.models import ChargeAttempt
from renewals.notifications.models import Email
from renewals.payments.collecting import confirm_payment, return_from_gateway
from renewals.payments.models import GatewayCall, Payment
from renewals.payments.recovery import reconcile_stuck_payments
from renewals.subscriptions.models import Subscription

from ..helpers import TODAY, eur_subscription
from .test_checkout import checkout, post

pytestmark = pytest.mark.django_db


def saved_card(sub, method="pm_card_visa"):
    return Card.objects.create(
        user=sub.purchaser, gateway="stripe", token=f"cus_Saved01:{method}", last4="4242"
    )


def outcomes(payment):
    return list(
        GatewayCall.objects.filter(payment=payment).order_by("id").values_list("kind", "outcome")
    )


def renewed_once(sub):
    sub.refresh_from_db()
    assert sub.renewal_date == date(2028, 3, 31)
    assert Order.objects.filter(status="paid").count() == 1


@pytest.mark.parametrize("error", ["timeout", "connection", "500"])
def test_a_charge_whose_answer_is_lost_is_looked_up_at_once_and_paid_once(fake_stripe, error):
    sub = eur_subscription()
    card = saved_card(sub)
    fake_stripe.fail("create_intent", error, after=True)
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    assert order.status == "paid"
    assert len(fake_stripe.charges()) == 1
    assert len({c["key"] for c in fake_stripe.calls("create_intent")}) == 1  # retries: one key
    assert outcomes(order.payment) == [("create_payment", "unknown"), ("find_payment", "succeeded")]
    assert order.payment.reference.startswith("pi_")
    renewed_once(sub)
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_while_confirming_the_group_cannot_be_paid_again_then_one_lookup_settles_it(
    fake_stripe, client
):
    sub = eur_subscription()
    card = saved_card(sub)
    fake_stripe.fail("create_intent", "timeout", after=True)
    fake_stripe.fail("search_intents", "500")
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    assert (order.status, order.payment.status) == ("confirming", "confirming")
    assert order.lines.get().holds_term is True
    with pytest.raises(DomainError) as refused:
        checkout(sub, {"method": "card", "payment_method_id": str(card.pk)}, key="key-2")
    assert refused.value.code == "payment_pending"
    assert Order.objects.count() == 1 and len(fake_stripe.charges()) == 1
    # The customer's "check again" (or the reconciler) asks Stripe: paid, once.
    payment = confirm_payment(order.payment.pk, source="customer_return", today=TODAY)
    assert payment.status == "succeeded"
    renewed_once(sub)
    assert confirm_payment(order.payment.pk, source="reconciler", today=TODAY).status == "succeeded"
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_the_webhook_settles_a_confirming_payment_by_its_metadata(fake_stripe, client):
    sub = eur_subscription()
    card = saved_card(sub)
    fake_stripe.fail("create_intent", "timeout", after=True)
    fake_stripe.fail("search_intents", "timeout")
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    assert order.payment.reference.startswith("new_")
    (intent,) = fake_stripe.charges()
    answer = post(client, fake_stripe.event("payment_intent.succeeded", intent))
    assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
    payment = Payment.objects.get(pk=order.payment.pk)
    assert (payment.status, payment.reference) == ("succeeded", intent["id"])
    renewed_once(sub)


def test_a_rate_limited_charge_that_never_reached_stripe_fails_only_after_the_lag_window(
    fake_stripe,
):
    sub = eur_subscription()
    card = saved_card(sub)
    fake_stripe.fail("create_intent", "429", times=1)
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    # 429 is not proof that nothing was charged: confirming, and Stripe's search (which lags)
    # finding nothing yet changes nothing.
    assert order.status == "confirming" and fake_stripe.charges() == []
    assert reconcile_stuck_payments(created_before=timezone.now(), today=TODAY)["unknown"] == 1
    later = reconcile_stuck_payments(
        created_before=timezone.now() + timedelta(hours=26), today=TODAY
    )
    assert later["not_at_gateway"] == 1
    order.refresh_from_db()
    assert (order.status, order.failure_code) == ("failed", "no_gateway_answer")
    assert order.lines.get().holds_term is False


def test_a_lost_checkout_page_answer_is_asked_again_with_the_same_key(fake_stripe):
    sub = eur_subscription(payment_method=None)
    fake_stripe.fail("create_session", "timeout", after=True)
    order = checkout(sub, {"method": "card"})
    assert order.status == "requires_action"
    assert len(fake_stripe.sessions) == 1  # Stripe replayed the first session: one page
    assert order.payment.action_url.endswith(order.payment.reference)
    keys = {c["key"] for c in fake_stripe.calls("create_session")}
    assert keys == {f"renewals-order-{order.number}"}


@pytest.mark.parametrize("error", ["timeout", "500", "429"])
def test_a_lost_answer_on_the_return_from_stripe_is_confirmed_never_failed(fake_stripe, error):
    sub = eur_subscription(payment_method=None)
    order = checkout(sub, {"method": "card", "save": True})
    fake_stripe.customer_pays_session(order.payment.reference)
    fake_stripe.fail("retrieve_session", error, after=True, times=6)
    payment = return_from_gateway(order.payment.pk, source="customer_return", today=TODAY)
    assert payment.status == "confirming"
    assert Order.objects.get(pk=order.pk).status == "confirming"
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2027, 3, 31)
    fake_stripe.faults.clear()
    payment = confirm_payment(payment.pk, source="customer_return", today=TODAY)
    assert payment.status == "succeeded"
    renewed_once(sub)
    assert Subscription.objects.get(pk=sub.pk).card.token.startswith("cus_")
    assert Email.objects.filter(kind="order-confirmation").count() == 1


# -- the daily auto-renewal and its retries (R12) ---------------------------------------------

D = date(2026, 5, 1)


def auto_renewing(fake_stripe):
    from tests.lifecycle.helpers import subscription

    sub = subscription(renewal_date=D, auto_renew=True)
    card = Card.objects.create(
        user=sub.purchaser, gateway="stripe", token="cus_Auto01:pm_card_visa", last4="4242"
    )
    Subscription.objects.filter(pk=sub.pk).update(card=card)
    return sub


@pytest.mark.parametrize("error", ["timeout", "500"])
def test_an_auto_renewal_whose_answer_is_lost_is_never_a_failure_nor_charged_again(
    fake_stripe, error, django_capture_on_commit_callbacks
):
    sub = auto_renewing(fake_stripe)
    fake_stripe.fail("create_intent", error, after=True)
    fake_stripe.fail("search_intents", "timeout", times=6)  # also lost, today and at D+1
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D)
    (attempt,) = ChargeAttempt.objects.all()
    assert (attempt.status, attempt.order.status) == ("pending", "confirming")
    assert Email.objects.filter(kind="auto-renewal-failed").count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D + timedelta(days=1))  # the retry day: the lookup is still lost
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D + timedelta(days=3))  # now Stripe answers: it was charged
    sub.refresh_from_db()
    assert sub.renewal_date == date(2027, 5, 1)
    assert len(fake_stripe.charges()) == 1
    assert len({c["key"] for c in fake_stripe.calls("create_intent")}) == 1  # never a new key
    assert Order.objects.filter(status="paid").count() == 1
    assert not Order.objects.filter(status="failed").exists()
    assert Email.objects.filter(kind="auto-renewal-receipt").count() == 1
    assert Email.objects.filter(kind="auto-renewal-failed").count() == 0


def test_a_payment_still_unknown_past_its_deadline_is_flagged_for_staff(fake_stripe):
    sub = eur_subscription()
    card = saved_card(sub)
    fake_stripe.fail("create_intent", "timeout", after=True)
    fake_stripe.fail("search_intents", "timeout", times=99)
    order = checkout(sub, {"method": "card", "payment_method_id": str(card.pk)})
    from renewals.payments.actions import expire_overdue_payments

    expire_overdue_payments(order.payment.expires_on + timedelta(days=1))
    payment = Payment.objects.get(pk=order.payment.pk)
    assert (payment.status, payment.needs_reconciliation) == ("confirming", True)
    assert Order.objects.get(pk=order.pk).status == "confirming"  # never released by a date


@pytest.mark.parametrize("error", ["timeout", "connection", "500"])
def test_a_retry_of_a_declined_auto_renewal_whose_answer_is_lost_charges_once(
    fake_stripe, error, django_capture_on_commit_callbacks
):
    # D: the card is declined (one failure email). D+1: the retry charges the card the customer
    # fixed meanwhile, and that answer is lost after Stripe charged. D+3 must not charge again.
    sub = auto_renewing(fake_stripe)
    card = Card.objects.filter(subscriptions=sub)
    card.update(token="cus_Auto01:pm_card_chargeDeclinedInsufficientFunds")
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D)
    assert Email.objects.filter(kind="auto-renewal-failed").count() == 1
    assert fake_stripe.charges() == []
    card.update(token="cus_Auto01:pm_card_visa")
    fake_stripe.fail("create_intent", error, after=True, times=1)
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D + timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D + timedelta(days=3))  # a retry day again: settled, nothing charged
    sub.refresh_from_db()
    assert sub.renewal_date == date(2027, 5, 1)
    assert len(fake_stripe.charges()) == 1
    assert Order.objects.filter(status="paid").count() == 1
    assert Email.objects.filter(kind="auto-renewal-receipt").count() == 1
    assert Email.objects.filter(kind="auto-renewal-failed").count() == 1  # D's only


@pytest.mark.parametrize("error", ["connection", "429"])
def test_an_auto_renewal_refused_before_stripe_did_anything_is_never_charged_twice(
    fake_stripe, error, django_capture_on_commit_callbacks
):
    # A connection refused or a 429 before Stripe did the work, then the reconciler past its lag
    # window and the retry days: whatever each decides, money is taken at most once, and a term
    # is renewed, an order paid and a receipt sent exactly when it was.
    sub = auto_renewing(fake_stripe)
    fake_stripe.fail("create_intent", error, times=1)
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D)
    assert not Order.objects.filter(status="failed", payment__status="confirming").exists()
    with django_capture_on_commit_callbacks(execute=True):
        reconcile_stuck_payments(created_before=timezone.now() + timedelta(hours=1), today=D)
    for day in (D + timedelta(days=1), D + timedelta(days=3), D + timedelta(days=7)):
        with django_capture_on_commit_callbacks(execute=True):
            daily.run_daily(day)
    charged = len(fake_stripe.charges())
    assert charged <= 1
    assert len({c["key"] for c in fake_stripe.calls("create_intent")}) >= 1
    sub.refresh_from_db()
    assert (sub.renewal_date == date(2027, 5, 1)) is (charged == 1)
    assert Order.objects.filter(status="paid").count() == charged
    assert Email.objects.filter(kind="auto-renewal-receipt").count() == charged
    assert not Payment.objects.filter(status="succeeded", order__status="failed").exists()

"""A process killed between the gateway's answer and fulfilment: the daily run finishes it once.

The crash is simulated by making the recording step raise after the gateway answered: the
transaction that would have recorded the answer rolls back, exactly as if the process died.
The gateway (the sandbox's own table) keeps what it did. The next daily run's reconciler asks
the gateway and completes the renewal exactly once (R4, R10, R16).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from renewals.checkout.models import CartLine, Order
from renewals.lifecycle import daily
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.checkout import place_order
from renewals.payments.gateways.sandbox import SandboxGateway
from renewals.payments.models import Payment, SandboxPayment
from renewals.payments.recovery import reconcile_stuck_payments
from renewals.subscriptions.models import Subscription, Term

from .helpers import PAID_CARD, TODAY, cart_of

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """The process dies: not an Exception, so no handler on the way turns it into a failure."""


def _die(*args, **kwargs):
    raise Killed


def _checkout_killed(monkeypatch, *, where, payment=PAID_CARD):
    user, group, subs = cart_of(2)
    with monkeypatch.context() as patch:
        if where == "after_gateway":
            patch.setattr(actions, "record_result", _die)
        else:  # before the call reached the gateway
            patch.setattr(SandboxGateway, "create_payment", _die)
        with pytest.raises(Killed):
            place_order(
                user=user,
                group_key=group,
                payment=payment,
                idempotency_key="k",
                expected_total=None,
                today=TODAY,
            )
    # The crash is older than the reconciler's grace delay by the time the daily run comes.
    Payment.objects.update(created=timezone.now() - timedelta(hours=1))
    return user, subs


def _renewal_dates():
    return sorted(
        d.isoformat() for d in Subscription.objects.values_list("renewal_date", flat=True)
    )


def test_charged_but_unrecorded_payment_is_fulfilled_once_by_the_next_daily_run(monkeypatch):
    _user, subs = _checkout_killed(monkeypatch, where="after_gateway")
    assert Payment.objects.get().status == "created"
    assert SandboxPayment.objects.get().status == "succeeded"  # the customer was charged
    assert _renewal_dates() == ["2027-03-31", "2027-03-31"]

    run = daily.run_daily(TODAY + timedelta(days=1))

    assert run.counts["payments_reconciled"] == 1
    assert Payment.objects.get().status == "succeeded"
    assert Order.objects.get().status == "paid"
    assert _renewal_dates() == ["2028-03-31", "2028-03-31"]
    assert Term.objects.filter(subscription__in=subs).count() == 4
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    assert CartLine.objects.count() == 0
    assert SandboxPayment.objects.count() == 1  # asked, never charged again

    again = daily.run_daily(TODAY + timedelta(days=2))
    assert again.counts["payments_reconciled"] == 0
    assert _renewal_dates() == ["2028-03-31", "2028-03-31"]
    assert Term.objects.filter(subscription__in=subs).count() == 4
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_reconciling_twice_records_the_answer_once(monkeypatch):
    _checkout_killed(monkeypatch, where="after_gateway")
    cutoff = timezone.now()
    first = reconcile_stuck_payments(created_before=cutoff, today=TODAY)
    second = reconcile_stuck_payments(created_before=cutoff, today=TODAY)
    assert first == {"recorded": 1, "not_at_gateway": 0, "completed": 0, "unknown": 0, "funds": 0}
    assert second == {"recorded": 0, "not_at_gateway": 0, "completed": 0, "unknown": 0, "funds": 0}
    assert Term.objects.count() == 4


def test_a_payment_killed_before_reaching_the_gateway_fails_and_frees_its_terms(monkeypatch):
    user, subs = _checkout_killed(monkeypatch, where="before_gateway")
    assert SandboxPayment.objects.count() == 0

    run = daily.run_daily(TODAY + timedelta(days=1))

    assert run.counts["payments_reconciled"] == 1
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "no_gateway_answer")
    order = Order.objects.get()
    assert order.status == "failed"
    assert list(order.lines.values_list("holds_term", flat=True)) == [False, False]
    assert _renewal_dates() == ["2027-03-31", "2027-03-31"]
    assert CartLine.objects.filter(user=user).count() == 2  # the customer can pay again


def test_a_payment_still_in_flight_is_left_alone(monkeypatch):
    _checkout_killed(monkeypatch, where="after_gateway")
    Payment.objects.update(created=timezone.now())
    counts = reconcile_stuck_payments(
        created_before=timezone.now() - timedelta(minutes=15), today=TODAY
    )
    assert counts == {"recorded": 0, "not_at_gateway": 0, "completed": 0, "unknown": 0, "funds": 0}
    assert Payment.objects.get().status == "created"
    assert _renewal_dates() == ["2027-03-31", "2027-03-31"]


def test_a_passed_challenge_whose_customer_never_came_back_is_completed_once():
    user, group, subs = cart_of(1)
    order, _ = place_order(
        user=user,
        group_key=group,
        payment={"method": "card", "card_number": "4000000000003220"},
        idempotency_key="3ds",
        expected_total=None,
        today=TODAY,
    )
    payment = Payment.objects.get()
    assert payment.status == "requires_action"
    SandboxGateway().complete_challenge(payment.reference, passed=True)  # then the tab closed
    Payment.objects.update(created=timezone.now() - timedelta(hours=1))

    run = daily.run_daily(TODAY)

    assert run.counts["payments_reconciled"] == 1
    assert Order.objects.get().status == "paid"
    assert _renewal_dates() == ["2028-03-31"]
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_an_open_challenge_is_left_to_its_deadline():
    user, group, _subs = cart_of(1)
    place_order(
        user=user,
        group_key=group,
        payment={"method": "card", "card_number": "4000000000003220"},
        idempotency_key="3ds",
        expected_total=None,
        today=TODAY,
    )
    Payment.objects.update(created=timezone.now() - timedelta(hours=1))
    counts = reconcile_stuck_payments(created_before=timezone.now(), today=TODAY)
    assert counts["completed"] == 0
    assert Payment.objects.get().status == "requires_action"

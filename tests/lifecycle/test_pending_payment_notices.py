"""A subscription whose renewal order still waits for a konbini payment gets no "expired" email
on D or the day after (#17): its voucher (or transfer reference) is still valid, and "renew now"
would be refused (R5 payment_pending). The same is true of a bank transfer."""

from datetime import timedelta

import pytest

from renewals.lifecycle import daily
from renewals.payments import actions
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription
from tests.payments.helpers import jpy_subscriptions, order_for

from .helpers import emails

pytestmark = pytest.mark.django_db


def expired_for(sub_id: str) -> list:
    return [
        e
        for e in emails("subscription-expired")
        if sub_id in e.headers.get("X-Renewals-Subscriptions", "").split(",")
    ]


@pytest.mark.parametrize("method", ["konbini", "bank_transfer"])
def test_an_order_waiting_for_its_payment_on_d_and_the_day_after_sends_no_expired_email(
    frozen_today, method
):
    waiting, forgotten = jpy_subscriptions(2)
    d = waiting.renewal_date
    order = order_for([waiting], method=method, today=d - timedelta(days=1))
    payment = actions.start_payment(
        order, method=method, user=order.placed_by, today=d - timedelta(days=1)
    )
    assert payment.status == "pending" and payment.expires_on > d + timedelta(days=1)

    for day in (d, d + timedelta(days=1)):
        frozen_today(day)
        daily.run_daily(day)

    assert expired_for(waiting.pk) == []
    # The same purchaser's subscription without an order is told, once: the run did send.
    assert len(expired_for(forgotten.pk)) == 1
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert Subscription.objects.get(pk=waiting.pk).renewal_date == d

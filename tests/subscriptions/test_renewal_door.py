"""The one renewal door (R3, R4, R19): boundary table of what money recorded on a day may renew."""

from datetime import date, timedelta

import pytest

from renewals.core.models import AuditEvent
from renewals.subscriptions import rules
from renewals.subscriptions.actions import (
    AlreadyRenewed,
    RenewalRefused,
    renew_subscriptions,
    restore_lapse_dates,
)
from renewals.subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

D = date(2027, 3, 31)  # annual: G = 45, cancelled from 2027-05-15, last renewable day 2027-05-14
LAST = date(2027, 5, 14)


@pytest.mark.parametrize(
    ("today", "term", "expected"),
    [
        (D - timedelta(days=91), "annual", None),  # an order placed in the window, paid: fine
        (D - timedelta(days=1), "annual", None),
        (D, "annual", None),
        (LAST - timedelta(days=1), "annual", None),
        (LAST, "annual", None),  # the last renewable day still renews
        (LAST + timedelta(days=1), "annual", "cancelled"),  # the day after: cancelled (R2)
        (date(2028, 1, 1), "annual", "cancelled"),
        (D + timedelta(days=29), "monthly", None),  # monthly: G = 30
        (D + timedelta(days=30), "monthly", "cancelled"),
    ],
)
def test_money_renews_until_the_last_renewable_day_and_not_the_day_after(today, term, expected):
    assert (
        rules.renewal_refusal(
            term_start=D, renewal_date=D, lapse_date=D, term=term, trial=False, today=today
        )
        == expected
    )


@pytest.mark.parametrize(
    ("term_start", "trial", "lapse", "expected"),
    [
        (D, True, D, "trial"),
        (D - timedelta(days=365), False, D, "already_renewed"),
        (D + timedelta(days=365), False, D, "not_next_term"),
        # An overdue invoice moved the lapse date back: the stage counts from it (R2, R9).
        (D, False, D - timedelta(days=45), "cancelled"),
        (D, False, D - timedelta(days=44), None),
    ],
)
def test_refusal_reasons(term_start, trial, lapse, expected):
    refusal = rules.renewal_refusal(
        term_start=term_start,
        renewal_date=D,
        lapse_date=lapse,
        term="annual",
        trial=trial,
        today=D,
    )
    assert refusal == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("today", "renewed"), [(LAST, True), (LAST + timedelta(days=1), False)])
def test_the_door_renews_on_the_last_renewable_day_and_refuses_the_day_after(today, renewed):
    sub = SubscriptionFactory(renewal_date=D)
    if renewed:
        renew_subscriptions([(sub.pk, D)], today=today, source="order", order_number="R-1")
        assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)
        return
    with pytest.raises(RenewalRefused) as refused:
        renew_subscriptions([(sub.pk, D)], today=today, source="order", order_number="R-1")
    assert (refused.value.code, refused.value.subscription_id) == ("cancelled", sub.pk)
    sub.refresh_from_db()
    assert sub.renewal_date == D and sub.terms.count() == 1


@pytest.mark.django_db
def test_one_refused_line_refuses_the_whole_order_and_changes_nothing():
    ok = SubscriptionFactory(renewal_date=date(2027, 5, 1))
    gone = SubscriptionFactory(renewal_date=D, trial=True)
    with pytest.raises(RenewalRefused) as refused:
        renew_subscriptions(
            [(ok.pk, ok.renewal_date), (gone.pk, D)], today=D - timedelta(days=5), source="order"
        )
    assert refused.value.code == "trial"
    assert Subscription.objects.get(pk=ok.pk).renewal_date == date(2027, 5, 1)
    assert not AuditEvent.objects.filter(action="renewed").exists()


@pytest.mark.django_db
def test_a_second_renewal_of_one_term_is_already_renewed():
    sub = SubscriptionFactory(renewal_date=D)
    renew_subscriptions([(sub.pk, D)], today=D, source="order")
    with pytest.raises(AlreadyRenewed) as refused:
        renew_subscriptions([(sub.pk, D)], today=D, source="order")
    assert refused.value.code == "already_renewed"


@pytest.mark.django_db
def test_paying_an_overdue_invoice_never_restores_a_cancelled_subscription():
    due = date(2027, 4, 30)
    alive = SubscriptionFactory(renewal_date=D, lapse_date=D - timedelta(days=10))
    dead = SubscriptionFactory(renewal_date=D, lapse_date=due - timedelta(days=90))
    restored, refused = restore_lapse_dates([alive.pk, dead.pk], today=due, label="test")
    assert (restored, refused) == ([alive.pk], [dead.pk])
    assert Subscription.objects.get(pk=alive.pk).lapse_date == D
    assert Subscription.objects.get(pk=dead.pk).stage_on(due) == "cancelled"
    assert AuditEvent.objects.filter(object_id=dead.pk, action="restore_refused").exists()

"""R12: the automatic renewals due the same day for the same purchaser, CSN, currency and card
are one order — one gateway charge, one receipt — also when retried, lost or re-run."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from renewals.checkout.models import Order, OrderLine
from renewals.events.models import Event
from renewals.lifecycle import charges, daily
from renewals.lifecycle.models import ChargeAttempt
from renewals.payments.models import Payment, SandboxPayment
from renewals.subscriptions.models import Subscription
from tests.factories import CardFactory, CustomerFactory, UserFactory

from .helpers import DECLINED, emails, subscription

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 1)
LOST = "pm_sandbox_4000000000000119"


def days(n):
    return timedelta(days=n)


def _pair(differ: str):
    """Two auto-renewals due today that share everything but `differ`."""
    buyer, customer = UserFactory(), CustomerFactory()
    first = subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True)
    other = {"purchaser": buyer, "customer": customer, "currency": "EUR", "card": first.card}
    if differ == "purchaser":
        other["purchaser"] = UserFactory()
        other["card"] = CardFactory(user=other["purchaser"])
    elif differ == "customer":
        other["customer"] = CustomerFactory()
    elif differ == "currency":
        other["currency"] = "USD"
    elif differ == "card":
        other["card"] = CardFactory(user=buyer, token="pm_sandbox_4000000000003220", last4="3220")
    purchaser = other.pop("purchaser")
    second = subscription(purchaser, renewal_date=TODAY, auto_renew=True, **other)
    return first, second


@pytest.mark.parametrize(
    ("differ", "orders"),
    [("nothing", 1), ("purchaser", 2), ("customer", 2), ("currency", 2), ("card", 2)],
)
def test_one_order_per_purchaser_csn_currency_and_card(differ, orders):
    first, second = _pair(differ)

    run = daily.run_daily(TODAY)

    assert Order.objects.count() == orders
    assert SandboxPayment.objects.count() == orders  # one gateway charge per order
    by_sub = dict(ChargeAttempt.objects.values_list("subscription_id", "order_id"))
    assert (by_sub[first.pk] == by_sub[second.pk]) is (orders == 1)
    assert OrderLine.objects.count() == 2
    assert sum(run.counts["charges"].values()) == 2  # counted per subscription
    if differ == "card":  # the 3-D Secure card cannot pass a challenge off-session
        assert run.counts["charges"] == {"succeeded": 1, "failed": 1}
    else:
        assert run.counts["charges"] == {"succeeded": 2}
        assert len(emails("auto-renewal-receipt")) == orders


def test_a_group_is_one_order_one_charge_one_receipt_and_events_for_each():
    buyer = UserFactory()
    customer = CustomerFactory()
    subs = [
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True, seats=s)
        for s in (1, 2, 3)
    ]

    daily.run_daily(TODAY)

    order = Order.objects.get()
    assert (order.automatic, order.status, order.lines.count()) == (True, "paid", 3)
    assert str(order.subtotal) == "11340.000"  # 1890 × (1 + 2 + 3) seats at the renewal price
    charge = SandboxPayment.objects.get()
    assert charge.amount == order.total
    (receipt,) = emails("auto-renewal-receipt")
    assert all(s.pk in receipt.text for s in subs)
    renewed = Event.objects.filter(type="subscription.renewed")
    assert sorted(renewed.values_list("subscription_id", flat=True)) == sorted(s.pk for s in subs)
    assert Event.objects.filter(type="order.paid").count() == 1
    keys = set(ChargeAttempt.objects.values_list("order_key", flat=True))
    assert keys == {order.idempotency_key}
    assert order.idempotency_key == charges.order_key((s.pk, TODAY, 0) for s in subs)
    assert {s.renewal_date for s in Subscription.objects.all()} == {date(2027, 5, 1)}


def test_a_declined_group_goes_through_r2_and_is_retried_as_the_group_still_due():
    buyer = UserFactory()
    card = CardFactory(user=buyer, token=DECLINED, last4="0002")
    customer = CustomerFactory()
    a, b = (
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True, card=card)
        for _ in "ab"
    )

    for n in (0, 1):
        daily.run_daily(TODAY + days(n))
    # b is renewed by hand (here: turned off) before D+3: the retry is a group of one.
    Subscription.objects.filter(pk=b.pk).update(auto_renew=False)
    for n in range(2, 12):
        daily.run_daily(TODAY + days(n))

    orders = list(Order.objects.order_by("id"))
    assert [(o.status, o.lines.count()) for o in orders] == [
        ("failed", 2), ("failed", 2), ("failed", 1), ("failed", 1)
    ]  # fmt: skip
    assert len({o.idempotency_key for o in orders}) == 4  # each attempt and group its own key
    assert SandboxPayment.objects.count() == 4
    assert [e.business_date for e in ChargeAttempt.objects.filter(subscription=b)] == [
        TODAY, TODAY + days(1)
    ]  # fmt: skip
    failed = emails("auto-renewal-failed")
    assert len(failed) == 4  # one per failed charge, listing its subscriptions
    assert a.pk in failed[0].text and b.pk in failed[0].text
    assert failed[0].text.count("5,670.00") == 2  # each line's amount (3 seats), not the total
    assert b.pk not in failed[2].text
    stages = Event.objects.filter(type="subscription.stage_changed", subscription_id=a.pk)
    assert stages.exists()  # R2: expired on D like any unrenewed subscription


def test_a_lost_answer_is_looked_up_and_never_charged_twice():
    buyer = UserFactory()
    card = CardFactory(user=buyer, token=LOST, last4="0119")
    customer = CustomerFactory()
    subs = [
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True, card=card)
        for _ in "ab"
    ]

    first = daily.run_daily(TODAY)

    assert first.counts["charges"] == {"pending": 2}
    assert Order.objects.get().status == "confirming"
    # The re-run of the day asks the gateway (by the payment's idempotency key) and charges
    # nothing new; the next day has nothing left to do.
    Payment.objects.update(created=timezone.now() - timedelta(hours=1))  # past the grace delay
    again = daily.run_daily(TODAY)
    later = daily.run_daily(TODAY + days(1))

    assert again.counts["payments_reconciled"] == 1
    assert again.counts.get("charges", {}) == {}
    assert later.counts["payments_reconciled"] == 0
    assert later.counts.get("charges", {}) == {}
    assert SandboxPayment.objects.count() == 1
    order = Order.objects.get()
    assert order.status == "paid"
    assert set(ChargeAttempt.objects.values_list("status", flat=True)) == {"succeeded"}
    assert len(emails("auto-renewal-receipt")) == 1
    assert {s.renewal_date for s in Subscription.objects.filter(pk__in=[s.pk for s in subs])} == {
        date(2027, 5, 1)
    }


def test_rerunning_the_day_charges_and_sends_nothing_twice():
    buyer, customer = UserFactory(), CustomerFactory()
    for _ in range(3):
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True)

    daily.run_daily(TODAY)
    again = daily.run_daily(TODAY)

    assert again.counts.get("charges", {}) == {}
    assert (Order.objects.count(), SandboxPayment.objects.count()) == (1, 1)
    assert len(emails("auto-renewal-receipt")) == 1


class Killed(BaseException):
    """The process dies (not an Exception: no handler turns it into a failure)."""


def test_a_crash_between_the_order_and_its_payment_is_finished_once_by_the_rerun(monkeypatch):
    buyer, customer = UserFactory(), CustomerFactory()
    for _ in range(2):
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True)
    real = charges.create_order

    def create_then_die(**kwargs):
        real(**kwargs)
        raise Killed

    monkeypatch.setattr(charges, "create_order", create_then_die)
    with pytest.raises(Killed):
        daily.run_daily(TODAY)
    assert list(ChargeAttempt.objects.values_list("status", "order")) == [("claimed", None)] * 2
    monkeypatch.setattr(charges, "create_order", real)

    run = daily.run_daily(TODAY)

    order = Order.objects.get()  # found again by the group's key, not made twice
    assert order.status == "paid"
    assert set(ChargeAttempt.objects.values_list("order", flat=True)) == {order.pk}
    assert SandboxPayment.objects.count() == 1
    assert len(emails("auto-renewal-receipt")) == 1
    assert run.counts.get("charges", {}) == {}


def test_the_database_keeps_a_term_in_one_automatic_attempt_row():
    sub = subscription(renewal_date=TODAY, auto_renew=True)
    charges.claim_group([(sub, 0)], today=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChargeAttempt.objects.create(
            subscription=sub, term_start=TODAY, attempt=0, business_date=TODAY, order_key="x"
        )
    # A second claim of the group (another worker) gets nothing to charge.
    assert charges.claim_group([(sub, 0)], today=TODAY) == []


def test_a_groups_queries_do_not_grow_with_its_lines():
    def queries(n):
        buyer, customer = UserFactory(), CustomerFactory()
        ids = [
            subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True).pk
            for _ in range(n)
        ]
        due = [(s, 0) for s in daily._load(ids).values()]
        with CaptureQueriesContext(connection) as ctx:
            done = charges.charge_due(due, today=TODAY)
        assert [a.status for a in done] == ["succeeded"] * n
        assert Order.objects.filter(customer=customer).count() == 1
        return len(ctx.captured_queries)

    queries(1)  # the first order of the test pays for what is cached afterwards
    assert queries(2) == queries(6)


def test_a_group_partly_claimed_by_another_run_charges_the_rest_once_under_their_own_key():
    buyer, customer = UserFactory(), CustomerFactory()
    a, b, c = (
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True) for _ in "abc"
    )
    charges.claim_attempt(a, 0, today=TODAY)  # another run got there first

    done = charges.charge_due([(a, 0), (b, 0), (c, 0)], today=TODAY)

    assert sorted(x.subscription_id for x in done) == sorted([b.pk, c.pk])
    order = Order.objects.get()
    assert sorted(order.lines.values_list("subscription_id", flat=True)) == sorted([b.pk, c.pk])
    assert order.idempotency_key == charges.order_key([(b.pk, TODAY, 0), (c.pk, TODAY, 0)])
    assert SandboxPayment.objects.count() == 1


def test_a_retry_and_a_first_charge_due_the_same_day_are_one_order():
    # a's card is declined on its D; the purchaser saves a working card for it. The next day a's
    # retry (D+1) and c's first charge (c's D) are due for the same purchaser, CSN, currency and
    # card: one order, one charge, one receipt listing both (R12, "retries included").
    buyer = UserFactory()
    customer = CustomerFactory()
    a = subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True, declined=True)
    daily.run_daily(TODAY)
    assert Order.objects.get().status == "failed"
    good = CardFactory(user=buyer)
    Subscription.objects.filter(pk=a.pk).update(card=good)
    c = subscription(
        buyer, customer=customer, renewal_date=TODAY + days(1), auto_renew=True, card=good
    )

    run = daily.run_daily(TODAY + days(1))

    joined = Order.objects.exclude(status="failed").get()
    assert (joined.status, joined.lines.count()) == ("paid", 2)
    assert SandboxPayment.objects.count() == 2  # the declined charge and this one
    assert run.counts["charges"] == {"succeeded": 2}
    (receipt,) = emails("auto-renewal-receipt")
    assert a.pk in receipt.text and c.pk in receipt.text
    assert Subscription.objects.get(pk=a.pk).renewal_date == date(
        2027, 5, 1
    )  # paying late never moves D
    assert Subscription.objects.get(pk=c.pk).renewal_date == date(2027, 5, 2)
    attempts = ChargeAttempt.objects.filter(business_date=TODAY + days(1))
    assert set(attempts.values_list("order_id", flat=True)) == {joined.pk}


def test_a_member_paid_by_hand_meanwhile_drops_out_and_the_rest_is_charged_now(monkeypatch):
    # Between the offers' read and the order, the customer opens a manual order for b's term
    # (a race): the group's order is refused for b only; a is charged the same day, alone.
    from renewals.checkout.models import Order as OrderModel

    buyer, customer = UserFactory(), CustomerFactory()
    a, b = (
        subscription(buyer, customer=customer, renewal_date=TODAY, auto_renew=True) for _ in "ab"
    )
    b.card = a.card
    Subscription.objects.filter(pk=b.pk).update(card=a.card)
    read_offers = charges.renewal_offers

    def offers_then_a_manual_order(subs, **kwargs):
        offers = read_offers(subs, **kwargs)
        manual = OrderModel.objects.create(
            number="R-MANUAL", customer=customer, currency="EUR", purchase_method="online",
            payment_method="konbini", status="pending_payment", placed_by=buyer,
            subtotal=1, tax=0, total=1, tax_rate=0, business_date=TODAY,
        )  # fmt: skip
        OrderLine.objects.create(
            order=manual, subscription=b, seats=1, unit_price=1, price_kind="renewal",
            amount=1, term_start=TODAY, term_end=date(2027, 5, 1),
        )  # fmt: skip
        return offers

    monkeypatch.setattr(charges, "renewal_offers", offers_then_a_manual_order)
    run = daily.run_daily(TODAY)

    auto = Order.objects.get(automatic=True)
    assert (auto.status, list(auto.lines.values_list("subscription_id", flat=True))) == (
        "paid", [a.pk]
    )  # fmt: skip
    assert run.counts["charges"] == {"succeeded": 1, "skipped": 1}
    attempt_b = ChargeAttempt.objects.get(subscription=b)
    assert (attempt_b.status, attempt_b.failure_code, attempt_b.order_id) == (
        "skipped", "payment_pending", None
    )  # fmt: skip
    assert auto.idempotency_key == charges.order_key([(a.pk, TODAY, 0)])
    assert ChargeAttempt.objects.get(subscription=a).order_key == auto.idempotency_key
    assert SandboxPayment.objects.count() == 1
    assert Subscription.objects.get(pk=b.pk).renewal_date == TODAY  # b waits for its own order

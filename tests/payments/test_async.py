"""Konbini and bank transfer end to end (R9): pending → paid, expired, partially funded."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from renewals.checkout.models import CartLine, Order
from renewals.checkout.offers import renewal_offers
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription

from .helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db


def start(order, method, today=TODAY):
    return actions.start_payment(order, method=method, user=order.placed_by, today=today)


def test_konbini_checkout_is_pending_with_a_voucher_and_one_instructions_email_in_japanese():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = start(order, "konbini")
    order.refresh_from_db()
    voucher = payment.instructions["konbini"]
    assert payment.status == "pending"
    assert order.status == "pending_payment"
    assert len(voucher["payment_code"]) == 11 and len(voucher["confirmation_number"]) == 6
    assert payment.expires_on == TODAY + timedelta(days=3)
    assert voucher["expires_at"] == "2027-03-04"
    email = Email.objects.get(kind="payment-instructions")
    assert email.to == sub.purchaser.email
    assert email.language == "ja"
    assert voucher["payment_code"] in email.text
    assert "2027年3月4日" in email.text
    assert email.headers["X-Renewals-Order"] == order.number
    assert email.headers["X-Renewals-Subscriptions"] == sub.pk


def test_pending_konbini_makes_the_subscription_payment_pending():
    sub = jpy_subscriptions()[0]
    start(order_for([sub], method="konbini"), "konbini")
    offer = renewal_offers([Subscription.objects.get(pk=sub.pk)], user=sub.purchaser, today=TODAY)
    assert offer[sub.pk].reasons == ("payment_pending",)


def test_konbini_deadline_never_passes_the_last_renewable_day():
    # Annual, D = 2027-03-31, G = 45 days: the last renewable day is 2027-05-14.
    sub = jpy_subscriptions()[0]
    today = date(2027, 5, 13)
    order = order_for([sub], method="konbini", today=today)
    payment = start(order, "konbini", today=today)
    assert payment.expires_on == date(2027, 5, 14)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2027, 5, 1), date(2027, 5, 8)),  # the 7 days fit before the last renewable day
        (date(2027, 5, 10), date(2027, 5, 14)),  # capped at it (R19, issue #11)
        (date(2027, 5, 14), date(2027, 5, 14)),  # on the last renewable day itself
    ],
)
def test_bank_transfer_deadline_never_passes_the_last_renewable_day(today, expected):
    # Annual, D = 2027-03-31, G = 45 days: the last renewable day is 2027-05-14.
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer", today=today)
    payment = start(order, "bank_transfer", today=today)
    assert payment.expires_on == expected


@pytest.mark.parametrize(("days", "expected"), [(0, 1), (1, 1), (60, 60), (61, 60)])
def test_konbini_deadline_days_are_clamped_to_1_to_60(settings, days, expected):
    settings.KONBINI_DEADLINE_DAYS = days
    sub = jpy_subscriptions(renewal_date=date(2027, 6, 30))[0]
    order = order_for([sub], method="konbini", today=date(2027, 4, 1))
    payment = start(order, "konbini", today=date(2027, 4, 1))
    assert payment.expires_on == date(2027, 4, 1) + timedelta(days=expected)


@pytest.mark.parametrize(("price", "allowed"), [("109", True), ("110", True), ("272728", False)])
def test_konbini_refuses_orders_outside_120_to_300000_yen(price, allowed):
    # 10 % tax: ¥109 → ¥120 total (allowed), ¥272,728 → ¥300,001 total (refused).
    sub = jpy_subscriptions(price=price)[0]
    order = order_for([sub], method="konbini")
    if allowed:
        assert start(order, "konbini").status == "pending"
        return
    with pytest.raises(DomainError) as refused:
        start(order, "konbini")
    assert refused.value.code == "method_not_allowed"
    assert not Payment.objects.exists()


def test_konbini_and_transfer_are_refused_outside_jpy():
    sub = eur_subscription()
    order = order_for([sub], method="konbini")
    for method in ("konbini", "bank_transfer"):
        with pytest.raises(DomainError) as refused:
            start(order, method)
        assert refused.value.code == "method_not_allowed"
    assert not Payment.objects.exists()


def test_sandbox_pay_command_pays_renews_and_sends_one_confirmation():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = start(order, "konbini")
    call_command("sandbox", "pay", payment.reference)
    call_command("sandbox", "pay", payment.reference)  # the customer's receipt shown twice
    payment.refresh_from_db()
    order.refresh_from_db()
    sub.refresh_from_db()
    assert payment.status == "succeeded"
    assert order.status == "paid"
    assert sub.renewal_date == date(2028, 3, 31)
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_sandbox_expire_command_expires_releases_the_term_and_emails_once():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = start(order, "konbini")
    call_command("sandbox", "expire", payment.reference)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "expired"
    assert order.status == "expired"
    assert order.lines.get().holds_term is False
    assert Email.objects.filter(kind="payment-expired").count() == 1
    offer = renewal_offers([Subscription.objects.get(pk=sub.pk)], user=sub.purchaser, today=TODAY)
    assert offer[sub.pk].eligible is True


@pytest.mark.parametrize(
    ("today", "expired"),
    [(date(2027, 3, 3), 0), (date(2027, 3, 4), 0), (date(2027, 3, 5), 1)],
)
def test_expire_overdue_payments_expires_only_after_the_deadline_day(today, expired):
    sub = jpy_subscriptions()[0]
    payment = start(order_for([sub], method="konbini"), "konbini")
    assert payment.expires_on == date(2027, 3, 4)
    assert actions.expire_overdue_payments(today) == expired
    assert actions.expire_overdue_payments(today) == 0
    payment.refresh_from_db()
    assert payment.status == ("expired" if expired else "pending")


def test_bank_transfer_of_the_exact_amount_pays_the_order():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer")
    payment = start(order, "bank_transfer")
    details = payment.instructions["bank_transfer"]
    assert payment.expires_on == TODAY + timedelta(days=7)
    assert details["reference"].startswith("RN") and details["account_number"]
    call_command("sandbox", "pay", payment.reference)
    payment.refresh_from_db()
    assert (payment.status, payment.received_amount, payment.needs_reconciliation) == (
        "succeeded",
        Decimal("13200"),
        False,
    )
    assert Order.objects.get(pk=order.pk).status == "paid"


@pytest.mark.parametrize("amount", ["13000", "13500"])
def test_short_or_excess_transfer_stays_pending_and_is_flagged(amount):
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer")
    payment = start(order, "bank_transfer")
    call_command("sandbox", "pay", payment.reference, "--amount", amount)
    payment.refresh_from_db()
    order.refresh_from_db()
    sub.refresh_from_db()
    assert payment.status == "partially_funded"
    assert payment.needs_reconciliation is True
    assert payment.received_amount == Decimal(amount)
    assert order.status == "pending_payment"
    assert sub.renewal_date == date(2027, 3, 31)


def test_a_short_transfer_topped_up_to_the_exact_amount_pays():
    sub = jpy_subscriptions()[0]
    payment = start(order_for([sub], method="bank_transfer"), "bank_transfer")
    call_command("sandbox", "pay", payment.reference, "--amount", "13000")
    call_command("sandbox", "pay", payment.reference, "--amount", "200")
    payment.refresh_from_db()
    assert (payment.status, payment.needs_reconciliation) == ("succeeded", False)


def test_pending_payment_takes_the_lines_out_of_the_cart():
    sub = jpy_subscriptions()[0]
    offer = renewal_offers([sub], user=sub.purchaser, today=TODAY)[sub.pk]
    CartLine.objects.create(
        user=sub.purchaser,
        subscription=sub,
        seats=1,
        unit_price=offer.unit_price.amount,
        currency="JPY",
        price_kind=offer.price_kind,
        term_start=offer.next_term[0],
        term_end=offer.next_term[1],
    )
    start(order_for([sub], method="konbini"), "konbini")
    assert not CartLine.objects.exists()


def test_many_subscriptions_in_one_konbini_order_get_one_instructions_email():
    subs = jpy_subscriptions(3)
    payment = start(order_for(subs, method="konbini"), "konbini")
    call_command("sandbox", "pay", payment.reference)
    assert Email.objects.filter(kind="payment-instructions").count() == 1
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    assert set(Subscription.objects.values_list("renewal_date", flat=True)) == {date(2028, 3, 31)}


def test_a_payment_left_created_by_a_crash_fails_after_its_deadline_and_frees_the_term():
    sub = eur_subscription()
    order = order_for([sub])
    payment = Payment.objects.create(
        order=order,
        gateway="sandbox",
        method="card",
        reference="new_crashed",
        amount=order.total,
        currency="EUR",
        expires_on=TODAY + timedelta(days=1),
    )
    assert actions.expire_overdue_payments(TODAY + timedelta(days=1)) == 0
    assert actions.expire_overdue_payments(TODAY + timedelta(days=2)) == 1
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "no_gateway_answer")
    assert (order.status, order.lines.get().holds_term) == ("failed", False)


def test_expiring_a_20_subscription_order_costs_the_same_queries_as_a_1_subscription_one():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (1, 20):
        subs = jpy_subscriptions(n, price="1000")
        payment = start(order_for(subs, method="konbini"), "konbini")
        with CaptureQueriesContext(connection) as ctx:
            assert actions.payment_expired(payment.reference, source="test") is True
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_sandbox_command_refuses_unknown_references_and_card_payments():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no sandbox payment"):
        call_command("sandbox", "pay", "sbx_missing")
    sub = eur_subscription()
    order = order_for([sub])
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4000000000003220", today=TODAY
    )
    with pytest.raises(CommandError, match="only konbini and bank transfer"):
        call_command("sandbox", "pay", payment.reference)
    payment.refresh_from_db()
    assert payment.status == "requires_action"


@pytest.mark.parametrize("amount", ["abc", "-5", "0", "NaN"])
def test_sandbox_command_refuses_a_bad_amount_and_changes_nothing(amount):
    from django.core.management.base import CommandError

    sub = jpy_subscriptions()[0]
    payment = start(order_for([sub], method="bank_transfer"), "bank_transfer")
    with pytest.raises(CommandError):
        call_command("sandbox", "pay", payment.reference, "--amount", amount)
    payment.refresh_from_db()
    assert (payment.status, payment.received_amount) == ("pending", None)

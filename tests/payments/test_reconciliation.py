"""Staff reconciliation (R9, R18): settle or refund flagged payments, with a note, audited."""

from datetime import date
from decimal import Decimal
from functools import partial

import pytest
from django.core.management import call_command

from renewals.checkout.models import Order
from renewals.core.audit import AuditEvent
from renewals.core.errors import DomainError
from renewals.payments import actions
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription
from tests.factories import UserFactory

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(email="staff@vendor.example", is_staff=True, is_superuser=True)


@pytest.fixture
def short_transfer():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer")
    payment = actions.start_payment(
        order, method="bank_transfer", user=order.placed_by, today=TODAY
    )
    call_command("sandbox", "pay", payment.reference, "--amount", "13000")
    payment.refresh_from_db()
    return payment


def test_settling_a_short_transfer_renews_and_records_the_note(short_transfer, staff):
    assert (
        actions.settle_payment(
            short_transfer.pk, actor=staff, note="Bank fee ¥200 waived", today=TODAY
        )
        is True
    )
    short_transfer.refresh_from_db()
    assert (short_transfer.status, short_transfer.needs_reconciliation) == ("succeeded", False)
    assert short_transfer.reconciliation_note == "staff@vendor.example: Bank fee ¥200 waived"
    assert Order.objects.get().status == "paid"
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)
    event = AuditEvent.objects.filter(action="payment_succeeded").get()
    assert (event.actor_label, event.data["note"]) == (
        "staff@vendor.example",
        "Bank fee ¥200 waived",
    )


def test_refunding_a_short_transfer_fails_the_order_and_releases_the_term(short_transfer, staff):
    assert actions.refund_payment(short_transfer.pk, actor=staff, note="Returned ¥13,000") is True
    short_transfer.refresh_from_db()
    order = Order.objects.get()
    assert short_transfer.status == "refunded"
    assert (order.status, order.lines.get().holds_term) == ("failed", False)
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)


@pytest.mark.parametrize("note", ["", "   "])
def test_settle_and_refund_need_a_note_and_change_nothing_without_one(short_transfer, staff, note):
    for act in (partial(actions.settle_payment, today=TODAY), actions.refund_payment):
        with pytest.raises(DomainError) as refused:
            act(short_transfer.pk, actor=staff, note=note)
        assert refused.value.code == "note_required"
    short_transfer.refresh_from_db()
    assert (short_transfer.status, short_transfer.needs_reconciliation) == (
        "partially_funded",
        True,
    )


def test_late_money_after_expiry_is_flagged_cannot_be_settled_and_is_refunded(staff):
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    actions.payment_expired(payment.reference, source="test")
    assert actions.payment_succeeded(payment.reference, source="test", today=TODAY) is True
    payment.refresh_from_db()
    assert (payment.status, payment.needs_reconciliation) == ("expired", True)
    with pytest.raises(DomainError) as refused:
        actions.settle_payment(payment.pk, actor=staff, note="late konbini payment", today=TODAY)
    assert refused.value.code == "not_settleable"
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    assert actions.refund_payment(payment.pk, actor=staff, note="refunded late payment") is True
    payment.refresh_from_db()
    assert (payment.status, payment.needs_reconciliation) == ("refunded", False)
    # R19: the order kept the money (payment_after_release) until staff gave it back.
    assert Order.objects.get().status == "refunded"


def test_money_for_an_order_failed_meanwhile_never_renews_a_term_paid_by_another_order(staff):
    sub = jpy_subscriptions()[0]
    first = order_for([sub], method="konbini")
    late = actions.start_payment(first, method="konbini", user=first.placed_by, today=TODAY)
    actions.payment_expired(late.reference, source="test")
    second = order_for([sub], method="card")
    actions.start_payment(
        second, method="card", user=second.placed_by, card_token="4242424242424242", today=TODAY
    )
    actions.payment_succeeded(late.reference, source="test", today=TODAY)
    sub.refresh_from_db()
    assert sub.renewal_date == date(2028, 3, 31)
    assert sub.terms.count() == 2
    assert Payment.objects.get(pk=late.pk).needs_reconciliation is True


def test_admin_lists_flagged_payments_and_settles_with_a_note(client, short_transfer, staff):
    client.force_login(staff)
    listing = client.get("/admin/payments/payment/?reconcile=yes")
    assert listing.status_code == 200
    assert short_transfer.reference in listing.content.decode()
    ask = client.post(
        "/admin/payments/payment/",
        {"action": "settle", "_selected_action": [short_transfer.pk]},
    )
    assert ask.status_code == 200 and b"note" in ask.content
    assert Payment.objects.get().status == "partially_funded"
    done = client.post(
        "/admin/payments/payment/",
        {"action": "settle", "_selected_action": [short_transfer.pk], "apply": "1", "note": "ok"},
    )
    assert done.status_code == 302
    assert Payment.objects.get().status == "succeeded"


def test_reconciliation_list_costs_the_same_queries_for_3_or_30_payments(client, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff)
    counts = []
    for n in (3, 27):
        for sub in jpy_subscriptions(n):
            order = order_for([sub], method="bank_transfer")
            payment = actions.start_payment(
                order, method="bank_transfer", user=order.placed_by, today=TODAY
            )
            actions.transfer_received(
                payment.reference, amount=Decimal("100"), source="test", today=TODAY
            )
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/admin/payments/payment/?reconcile=yes").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert Payment.objects.filter(needs_reconciliation=True).count() == 30
    assert counts[0] == counts[1]

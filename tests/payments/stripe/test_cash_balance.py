"""Money on a Stripe customer's cash balance is recorded once per arrival, as its own delta (R10).

`cash_balance.funds_available` carries the customer's WHOLE remaining balance per currency: it
used to be recorded as newly arrived money (money already flagged was recorded again on the next
event, and only the first currency was kept). Arrivals are now `funded` cash-balance
transactions, recorded once by their `ccsbtxn_…` id; `applied_to_payment` ones settle the row
the money came from, in whatever order Stripe's events arrive.
"""

import json

import pytest

from renewals.accounts.models import Customer
from renewals.checkout.models import Order
from renewals.payments.models import CustomerFunds, WebhookEvent

from ..helpers import jpy_subscriptions
from .test_checkout import checkout, funded, post

pytestmark = pytest.mark.django_db


def bank_transfer_order():
    (sub,) = jpy_subscriptions()
    order = checkout(sub, {"method": "bank_transfer"})
    return order, Customer.objects.get(pk=sub.customer_id)


def balance(customer, available):
    """A `cash_balance` object exactly as Stripe sends it (the fixture's shape)."""
    return {
        "object": "cash_balance",
        "available": available,
        "customer": customer.gateway_customer_id,
        "livemode": False,
        "settings": {"reconciliation_mode": "automatic", "using_merchant_default": True},
    }


def applied(fake_stripe, customer, payment, amount, currency="jpy"):
    txn = fake_stripe.cash_balance_transaction(
        customer.gateway_customer_id,
        -amount,
        currency=currency,
        type="applied_to_payment",
        payment_intent=payment.reference,
        ending_balance=0,
    )
    return fake_stripe.event("customer_cash_balance_transaction.created", txn), txn


def rows():
    return sorted(
        (str(r.amount), r.currency, r.status) for r in CustomerFunds.objects.order_by("pk")
    )


def test_funds_available_reports_the_whole_balance_and_records_nothing(fake_stripe, client):
    order, customer = bank_transfer_order()
    post(client, funded(fake_stripe, customer, 999))
    # The same 999 still on the balance, plus 20 dollars: the whole balance, nothing new.
    answer = post(client, fake_stripe.event("cash_balance.funds_available", balance(customer, {"jpy": 999, "usd": 2000})))  # fmt: skip
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    assert rows() == [("999.000", "JPY", "flagged")]
    assert fake_stripe.calls("apply_balance") == []
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


def test_each_arrival_is_its_own_amount_in_its_own_currency(fake_stripe, client):
    _order, customer = bank_transfer_order()
    for amount, currency in ((999, "jpy"), (500, "jpy"), (2000, "usd")):
        assert post(client, funded(fake_stripe, customer, amount, currency)).status_code == 200
    assert rows() == [("20.000", "USD", "flagged"), ("500.000", "JPY", "flagged"), ("999.000", "JPY", "flagged")]  # fmt: skip


def test_one_arrival_is_recorded_once_whatever_carries_it(fake_stripe, client):
    _order, customer = bank_transfer_order()
    txn = fake_stripe.cash_balance_transaction(customer.gateway_customer_id, 999)
    delivery = fake_stripe.event("customer_cash_balance_transaction.created", txn)
    again = fake_stripe.event("customer_cash_balance_transaction.created", txn)  # another evt_
    assert post(client, delivery).json()["outcome"] == "flagged"
    assert post(client, delivery).json()["duplicate"] is True
    assert post(client, again).json()["outcome"] == "no_change"
    assert rows() == [("999.000", "JPY", "flagged")]


def test_other_balance_movements_record_nothing(fake_stripe, client):
    _order, customer = bank_transfer_order()
    txn = fake_stripe.cash_balance_transaction(
        customer.gateway_customer_id, -999, type="refunded_from_payment"
    )
    answer = post(client, fake_stripe.event("customer_cash_balance_transaction.created", txn))
    assert answer.json()["outcome"] == "ignored" and rows() == []


def test_money_stripe_applied_itself_is_not_applied_again_nor_flagged(
    fake_stripe, client, django_capture_on_commit_callbacks
):
    order, customer = bank_transfer_order()
    # Stripe's automatic reconciliation paid the intent before its `funded` event reached us.
    fake_stripe.fund(order.payment.reference, 13200)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, funded(fake_stripe, customer, 13200)).json()["outcome"] == "applying"
    assert rows() == [("13200.000", "JPY", "applied")]
    assert len(fake_stripe.charges()) == 1
    assert Order.objects.get(pk=order.pk).status == "paid"
    delivery, _txn = applied(fake_stripe, customer, order.payment, 13200)
    assert post(client, delivery).json()["outcome"] == "no_change"
    assert rows() == [("13200.000", "JPY", "applied")]


def test_a_second_transfer_of_the_same_amount_stays_flagged(
    fake_stripe, client, django_capture_on_commit_callbacks
):
    order, customer = bank_transfer_order()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, funded(fake_stripe, customer, 13200))
        assert post(client, funded(fake_stripe, customer, 13200)).json()["outcome"] == "flagged"
    assert rows() == [("13200.000", "JPY", "applied"), ("13200.000", "JPY", "flagged")]
    assert len(fake_stripe.calls("apply_balance")) == 1


def test_an_arrival_stripe_applied_to_a_payment_leaves_the_to_do_list(fake_stripe, client):
    order, customer = bank_transfer_order()
    post(client, funded(fake_stripe, customer, 5000))  # short of 13200: flagged
    assert rows() == [("5000.000", "JPY", "flagged")]
    delivery, _txn = applied(fake_stripe, customer, order.payment, 5000)
    assert post(client, delivery).json()["outcome"] == "applied"
    row = CustomerFunds.objects.get()
    assert (row.status, row.payment_id) == ("applied", order.payment.pk)


def test_an_application_that_overtakes_its_arrival_is_answered_404_then_settles(
    fake_stripe, client
):
    order, customer = bank_transfer_order()
    delivery, _txn = applied(fake_stripe, customer, order.payment, 5000)
    early = post(client, delivery)
    assert early.status_code == 404 and not WebhookEvent.objects.filter(type="customer.funds_applied").exists()  # fmt: skip
    post(client, funded(fake_stripe, customer, 5000))
    assert post(client, delivery).json()["outcome"] == "applied"  # Stripe's retry
    assert rows() == [("5000.000", "JPY", "applied")]


def test_part_of_an_arrival_applied_by_stripe_says_what_is_left(fake_stripe, client):
    order, customer = bank_transfer_order()
    post(client, funded(fake_stripe, customer, 15000))  # more than owed: flagged
    delivery, _txn = applied(fake_stripe, customer, order.payment, 13200)
    assert post(client, delivery).status_code == 200
    row = CustomerFunds.objects.get()
    assert row.status == "flagged" and "1800.000 JPY is left" in row.note


def test_parts_stripe_applied_add_up_and_the_last_one_settles_the_arrival(fake_stripe, client):
    # 15,000 arrived, flagged (no payment owed exactly that). Stripe moves 13,200 to our order
    # and later the 1,800 left to another payment: the row counts both, then leaves the to-do.
    order, customer = bank_transfer_order()
    post(client, funded(fake_stripe, customer, 15000))
    first, _txn = applied(fake_stripe, customer, order.payment, 13200)
    assert post(client, first).status_code == 200
    row = CustomerFunds.objects.get()
    assert (row.status, row.applied_amount) == ("flagged", 13200)
    assert post(client, first).json()["duplicate"] is True  # re-sent: counted once
    assert CustomerFunds.objects.get().applied_amount == 13200
    second, _txn = applied(fake_stripe, customer, order.payment, 1800)
    assert post(client, second).json()["outcome"] == "applied"
    row = CustomerFunds.objects.get()
    assert (row.status, row.applied_amount, row.amount) == ("applied", 15000, 15000)


def test_a_part_larger_than_what_is_left_is_not_counted(fake_stripe, client):
    order, customer = bank_transfer_order()
    post(client, funded(fake_stripe, customer, 15000))
    post(client, applied(fake_stripe, customer, order.payment, 13200)[0])
    # 2,000 more cannot have come from this arrival (1,800 is left): its own arrival is awaited.
    assert post(client, applied(fake_stripe, customer, order.payment, 2000)[0]).status_code == 404
    row = CustomerFunds.objects.get()
    assert (row.status, row.applied_amount) == ("flagged", 13200)


def test_a_same_sized_second_arrival_is_not_taken_for_the_money_stripe_applied(
    fake_stripe, client, django_capture_on_commit_callbacks
):
    order, customer = bank_transfer_order()
    fake_stripe.fund(order.payment.reference, 13200)  # Stripe applied the first transfer itself
    post(client, funded(fake_stripe, customer, 13200))  # its apply call has not run yet
    delivery, _txn = applied(fake_stripe, customer, order.payment, 13200)
    assert post(client, delivery).json()["outcome"] == "applied"
    with django_capture_on_commit_callbacks(execute=True):
        post(client, funded(fake_stripe, customer, 13200))  # a second, identical transfer
    assert rows() == [("13200.000", "JPY", "applied"), ("13200.000", "JPY", "flagged")]
    assert "still on the customer's balance" in CustomerFunds.objects.get(status="flagged").note
    assert len(fake_stripe.charges()) == 1


def test_the_rest_of_a_part_stripe_applied_is_applied_by_us(
    fake_stripe, client, django_capture_on_commit_callbacks
):
    order, customer = bank_transfer_order()
    post(client, funded(fake_stripe, customer, 5000))
    post(client, applied(fake_stripe, customer, order.payment, 5000)[0])
    intent = fake_stripe.intents[order.payment.reference]
    intent["next_action"]["display_bank_transfer_instructions"]["amount_remaining"] = 8200
    post(client, fake_stripe.event("payment_intent.partially_funded", intent))
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, funded(fake_stripe, customer, 8200)).json()["outcome"] == "applying"
    assert rows() == [("5000.000", "JPY", "applied"), ("8200.000", "JPY", "applied")]
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_an_arrival_flagged_after_our_apply_was_refused_is_settled_when_stripe_moves_it(
    fake_stripe, client, django_capture_on_commit_callbacks
):
    # Our apply call is refused (Stripe had already moved the money, or the balance is short):
    # the row is flagged naming the payment. Stripe's own movement then settles it — never a
    # 404 for Stripe's three days of retries, never "needs staff" for money that paid an order.
    from tests.payments.stripe.fake import _error

    order, customer = bank_transfer_order()

    def refuse(params, intent_id):
        error = _error(400, "invalid_request_error", "insufficient", code="balance_insufficient")
        return json.loads(error[0]), 400

    fake_stripe.apply_balance = refuse
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, funded(fake_stripe, customer, 13200)).json()["outcome"] == "applying"
    row = CustomerFunds.objects.get()
    assert (row.status, row.payment_id) == ("flagged", order.payment.pk)
    delivery, _txn = applied(fake_stripe, customer, order.payment, 13200)
    assert [post(client, delivery).status_code for _ in range(2)] == [200, 200]
    assert CustomerFunds.objects.get().status == "applied"

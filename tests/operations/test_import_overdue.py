"""R9, R19: a re-import never takes a subscription out of an overdue invoice's expiry process.

An invoice order renews at once; unpaid on its due date, its subscriptions' expiry process (R2)
counts from the due date (`lapse_date`). Whatever the vendor's file says of D — the same old
date, the renewed one, a later one — the lapse date stays the due date: access is not revived
and the process does not move. Paying the invoice is what restores it.
"""

import copy
from datetime import date

import pytest

from renewals.billing import actions as billing
from renewals.billing.models import Invoice
from renewals.payments import actions
from renewals.subscriptions.importing import import_bytes
from renewals.subscriptions.models import Subscription
from tests.payments.helpers import order_for

from .test_import import EXAMPLE
from .test_import_guard import write_bytes

pytestmark = pytest.mark.django_db
TODAY = date(2027, 3, 1)
DUE = date(2027, 3, 31)
LATER = date(2027, 4, 20)  # due date + 20 days: suspended (no access) since the due date + 15


def invoice_file():
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0].update(purchase_method="invoice", payment_method={"type": "invoice"})
    return data


def overdue_subscription():
    import_bytes(write_bytes(invoice_file()), today=TODAY)
    sub = Subscription.objects.get()
    order = order_for([sub], method="invoice", today=TODAY)
    actions.start_payment(order, method="invoice", user=order.placed_by, today=TODAY)
    assert Invoice.objects.get().due_date == DUE
    assert billing.mark_overdue_invoices(LATER) == 1
    sub.refresh_from_db()
    assert (sub.renewal_date, sub.lapse_date, sub.stage_on(LATER)) == (
        date(2028, 3, 31),
        DUE,
        "suspended",
    )
    return sub


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("renewal_date", "2027-03-31"),  # the vendor's same file
        ("renewal_date", "2028-03-31"),  # the vendor's file updated with the renewal
        ("renewal_date", "2029-03-31"),  # D moved forward: the vendor's call, not a payment
        ("start_date", "2025-03-31"),
        ("seats", 5),
    ],
)
def test_a_reimport_never_revives_an_overdue_invoices_subscription(field, value):
    overdue_subscription()
    data = invoice_file()
    data["subscriptions"][0]["renewal_date"] = "2028-03-31"
    data["subscriptions"][0][field] = value
    import_bytes(write_bytes(data), today=LATER)
    sub = Subscription.objects.get()
    assert sub.lapse_date == DUE
    assert sub.stage_on(LATER) == "suspended"
    assert sub.lapse_date <= sub.renewal_date


def test_paying_the_invoice_after_a_reimport_that_moved_d_restores_at_the_new_d():
    overdue_subscription()
    data = invoice_file()
    data["subscriptions"][0]["renewal_date"] = "2029-03-31"
    import_bytes(write_bytes(data), today=LATER)
    invoice = Invoice.objects.get()
    assert billing.invoice_paid(invoice, actor=None, today=LATER, label="test")
    sub = Subscription.objects.get()
    assert (sub.renewal_date, sub.lapse_date, sub.stage_on(LATER)) == (
        date(2029, 3, 31),
        date(2029, 3, 31),
        "active",
    )


@pytest.mark.parametrize(
    ("old_lapse", "old_renewal", "new_renewal", "lapse"),
    [
        (None, None, date(2027, 3, 31), date(2027, 3, 31)),  # a new subscription: D
        (date(2027, 3, 31), date(2027, 3, 31), date(2028, 3, 31), date(2028, 3, 31)),  # D moves
        (date(2027, 3, 31), date(2028, 3, 31), date(2028, 3, 31), date(2027, 3, 31)),  # kept
        (date(2027, 3, 31), date(2028, 3, 31), date(2029, 3, 31), date(2027, 3, 31)),  # kept
        (date(2027, 3, 31), date(2028, 3, 31), date(2027, 1, 31), date(2027, 1, 31)),  # <= D
    ],
)
def test_the_lapse_date_rule_of_the_import(old_lapse, old_renewal, new_renewal, lapse):
    from renewals.subscriptions.rules import import_lapse_date

    assert (
        import_lapse_date(old_lapse=old_lapse, old_renewal=old_renewal, new_renewal=new_renewal)
        == lapse
    )

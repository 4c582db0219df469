"""Invoices on net terms (R9): issue at once, gapless numbers, PDF, overdue → expiry, paid."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.billing import actions as billing
from renewals.billing.models import Invoice
from renewals.billing.pdf import render_invoice_pdf
from renewals.checkout.models import Order
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.models import Payment
from tests.factories import CustomerFactory, MembershipFactory, UserFactory
from tests.payments.helpers import TODAY, eur_subscription, order_for

pytestmark = pytest.mark.django_db


def invoice_subscription(**kwargs):
    return eur_subscription(purchase_method="invoice", payment_method="invoice", **kwargs)


def pay_by_invoice(subs, today=TODAY):
    order = order_for(subs, method="invoice", today=today)
    return actions.start_payment(order, method="invoice", user=order.placed_by, today=today)


def test_invoice_order_is_fulfilled_at_once_and_the_invoice_is_due_in_30_days():
    sub = invoice_subscription()
    payment = pay_by_invoice([sub])
    invoice = Invoice.objects.get()
    sub.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.reference == "inv_INV-2027-000001"
    assert Order.objects.get().status == "invoiced"  # R9: never "paid" while the invoice is not
    assert sub.renewal_date == date(2028, 3, 31)
    assert sub.lapse_date == date(2028, 3, 31)
    assert invoice.number == "INV-2027-000001"
    assert (invoice.issued_on, invoice.due_date) == (TODAY, date(2027, 3, 31))
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("5670.000"),
        Decimal("1134.000"),
        Decimal("6804.000"),
    )
    assert invoice.bill_to["csn"] == sub.customer.csn
    assert invoice.seller["vat_id"] == "FR40123456824"
    email = Email.objects.get(kind="invoice-issued")
    assert "/billing/invoices/INV-2027-000001.pdf" in email.text
    assert email.headers["X-Renewals-Order"] == payment.order.number
    assert "is paid" not in email.text and "is paid" not in email.subject
    # No "your renewal is paid" confirmation until the invoice is paid.
    assert not Email.objects.filter(kind="order-confirmation").exists()


def test_invoice_numbers_are_sequential_per_year_and_restart_each_year():
    numbers = []
    for today in (date(2027, 3, 1), date(2027, 3, 2), date(2028, 1, 5)):
        sub = invoice_subscription(renewal_date=today + timedelta(days=30))
        pay_by_invoice([sub], today=today)
        numbers.append(Invoice.objects.get(order__lines__subscription=sub).number)
    assert numbers == ["INV-2027-000001", "INV-2027-000002", "INV-2028-000001"]


def test_invoice_refused_for_a_customer_who_does_not_pay_by_invoice():
    sub = eur_subscription()
    order = order_for([sub], method="invoice")
    with pytest.raises(DomainError) as refused:
        actions.start_payment(order, method="invoice", user=sub.purchaser, today=TODAY)
    assert refused.value.code == "method_not_allowed"
    assert not Payment.objects.exists() and not Invoice.objects.exists()


def test_invoice_allowed_to_an_online_customer_with_another_subscription_paid_by_invoice():
    sub = eur_subscription()
    invoice_subscription(customer=sub.customer, purchaser=sub.purchaser)
    order = order_for([sub], method="invoice")
    assert (
        actions.start_payment(order, method="invoice", user=sub.purchaser, today=TODAY).status
        == "succeeded"
    )


def test_invoice_pdf_is_a_pdf_with_its_number():
    sub = invoice_subscription()
    pay_by_invoice([sub])
    pdf = render_invoice_pdf(Invoice.objects.get())
    assert pdf.startswith(b"%PDF-")
    assert b"INV-2027-000001" in pdf
    assert pdf.rstrip().endswith(b"%%EOF")


def test_invoice_pdf_prints_a_japanese_customer_name():
    customer = CustomerFactory(country="JP", name="株式会社サンプル")
    sub = invoice_subscription(customer=customer)
    pay_by_invoice([sub])
    pdf = render_invoice_pdf(Invoice.objects.get())
    # R20: the Japanese font is embedded (a TrueType subset), not a reader's standard CID font.
    assert pdf.startswith(b"%PDF-") and b"/FontFile2" in pdf and b"HeiseiKakuGo-W5" not in pdf


@pytest.mark.parametrize(("today", "marked"), [(date(2027, 3, 30), 0), (date(2027, 3, 31), 1)])
def test_unpaid_invoice_starts_the_expiry_process_on_its_due_date(today, marked):
    sub = invoice_subscription()
    pay_by_invoice([sub])
    assert billing.mark_overdue_invoices(today) == marked
    assert billing.mark_overdue_invoices(today) == 0
    sub.refresh_from_db()
    if marked:
        assert sub.lapse_date == date(2027, 3, 31)
        assert sub.stage_on(today) == "expired"
        assert Email.objects.filter(kind="invoice-overdue").count() == 1
    else:
        assert sub.lapse_date == date(2028, 3, 31)
        assert sub.stage_on(today) == "active"
        assert not Email.objects.filter(kind="invoice-overdue").exists()
    assert sub.renewal_date == date(2028, 3, 31)


def test_overdue_subscription_is_suspended_15_days_after_the_due_date():
    sub = invoice_subscription()
    pay_by_invoice([sub])
    billing.mark_overdue_invoices(date(2027, 4, 20))
    sub.refresh_from_db()
    assert sub.stage_on(date(2027, 4, 14)) == "expired"
    assert sub.stage_on(date(2027, 4, 15)) == "suspended"


def test_paying_an_overdue_invoice_restores_the_lapse_date():
    sub = invoice_subscription()
    pay_by_invoice([sub])
    billing.mark_overdue_invoices(date(2027, 4, 2))
    staff = UserFactory(is_staff=True)
    invoice = Invoice.objects.get()
    assert billing.invoice_paid(invoice, actor=staff, today=date(2027, 4, 3)) is True
    assert billing.invoice_paid(invoice, actor=staff, today=date(2027, 4, 3)) is False
    sub.refresh_from_db()
    invoice.refresh_from_db()
    assert sub.lapse_date == sub.renewal_date == date(2028, 3, 31)
    assert (invoice.status, invoice.paid_on) == ("paid", date(2027, 4, 3))
    assert invoice.refund_due == 0
    assert Order.objects.get().status == "paid"
    confirmation = Email.objects.get(kind="order-confirmation")  # now it is paid, once
    assert "is paid" in confirmation.text


def test_invoice_pdf_is_served_to_the_purchaser_and_admins_only(client):
    sub = invoice_subscription()
    pay_by_invoice([sub])
    url = "/billing/invoices/INV-2027-000001.pdf"
    client.force_login(sub.purchaser)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    admin = MembershipFactory(customer=sub.customer).user
    client.force_login(admin)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    assert client.get("/billing/invoices/INV-2027-999999.pdf").status_code == 404


def test_staff_marks_an_overdue_invoice_paid_from_the_admin(client, frozen_today):
    frozen_today(date(2027, 4, 3))
    sub = invoice_subscription()
    pay_by_invoice([sub])
    billing.mark_overdue_invoices(date(2027, 4, 2))
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    invoice = Invoice.objects.get()
    listing = client.get("/admin/billing/invoice/")
    assert listing.status_code == 200 and invoice.number in listing.content.decode()
    response = client.post(
        "/admin/billing/invoice/", {"action": "mark_paid", "_selected_action": [invoice.pk]}
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    sub.refresh_from_db()
    assert (invoice.status, invoice.paid_on) == ("paid", date(2027, 4, 3))
    assert sub.lapse_date == sub.renewal_date


def test_invoice_paid_after_its_subscription_was_cancelled_is_kept_for_refund_and_told():
    # #11 leftover, R19: annual G = 45 days, so lapse on the due date 2027-03-31 → cancelled
    # on 2027-05-15; the money restores nothing, is flagged for staff and the customer told.
    sub = invoice_subscription()
    pay_by_invoice([sub])
    billing.mark_overdue_invoices(date(2027, 3, 31))
    invoice = Invoice.objects.get()
    assert billing.invoice_paid(invoice, actor=None, today=date(2027, 5, 15), label="bank")
    invoice.refresh_from_db()
    sub.refresh_from_db()
    assert sub.stage_on(date(2027, 5, 15)) == "cancelled"
    assert sub.lapse_date == date(2027, 3, 31)
    assert (invoice.status, invoice.refund_due) == ("paid", invoice.total)
    order = Order.objects.get()
    assert (order.status, order.failure_code) == ("payment_after_release", "cancelled")
    email = Email.objects.get(kind="payment-not-applied")
    assert "refund" in email.text and "cancelled" in email.text
    assert not Email.objects.filter(kind="order-confirmation").exists()


def test_invoice_paid_after_one_of_its_subscriptions_was_cancelled_refunds_that_share():
    customer = CustomerFactory(country="FR")
    user = UserFactory()
    cancelled = invoice_subscription(customer=customer, purchaser=user)
    kept = invoice_subscription(customer=customer, purchaser=user)
    pay_by_invoice([cancelled, kept])
    billing.mark_overdue_invoices(date(2027, 3, 31))
    # The second one is restored by hand first: its lapse date is D again.
    from renewals.subscriptions.actions import restore_lapse_dates

    restore_lapse_dates([kept.pk], today=date(2027, 4, 1))
    invoice = Invoice.objects.get()
    billing.invoice_paid(invoice, actor=None, today=date(2027, 5, 20), label="bank")
    invoice.refresh_from_db()
    # 5670 of one line + 20 % tax, rounded once (R6).
    assert invoice.refund_due == Decimal("6804.000")
    assert Order.objects.get().status == "paid"
    email = Email.objects.get(kind="invoice-refund-due")
    assert cancelled.pk in email.text and kept.pk not in email.text.split("restored")[-1]
    assert "6,804.00" in email.text or "6 804,00" in email.text

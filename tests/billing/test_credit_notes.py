"""Credit notes (R20): every staff refund of invoiced money issues one, referring to the invoice."""

import shutil
import subprocess
from datetime import date

import pytest
from django.db import transaction

from renewals.billing import actions as billing
from renewals.billing.models import CreditNote, CreditNoteSequence, Invoice
from renewals.billing.numbering import next_credit_note_sequence
from renewals.billing.pdf import render_credit_note_pdf
from renewals.checkout.models import Order
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments import actions
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.payments.helpers import TODAY, eur_subscription, order_for

pytestmark = pytest.mark.django_db

CANCELLED_DAY = date(2027, 5, 15)


def paid_after_cancellation(language="fr"):
    sub = eur_subscription(
        purchase_method="invoice",
        payment_method="invoice",
        purchaser=UserFactory(language=language),
    )
    order = order_for([sub], method="invoice")
    actions.start_payment(order, method="invoice", user=order.placed_by, today=TODAY)
    billing.mark_overdue_invoices(date(2027, 3, 31))
    invoice = Invoice.objects.get()
    payment = actions.pay_invoice(
        invoice, method="card", card_token="4242424242424242", user=sub.purchaser,
        today=CANCELLED_DAY,
    )  # fmt: skip
    invoice.refresh_from_db()
    return invoice, payment


def test_staff_refund_of_money_for_a_cancelled_subscription_issues_a_credit_note():
    invoice, payment = paid_after_cancellation()
    staff = UserFactory(is_staff=True)
    assert actions.refund_payment(payment.pk, actor=staff, note="IBAN refund", today=CANCELLED_DAY)
    credit = CreditNote.objects.get()
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert (credit.number, credit.invoice_id, credit.total) == (
        "CN-2027-000001",
        invoice.pk,
        invoice.total,
    )
    assert credit.subtotal + credit.tax == credit.total
    assert (credit.subtotal, credit.tax) == (invoice.subtotal, invoice.tax)
    assert invoice.refund_due == 0 and payment.needs_reconciliation is False
    assert Order.objects.get().status == "refunded"
    email = Email.objects.get(kind="credit-note-issued")
    assert "CN-2027-000001" in email.text and invoice.number in email.text
    # Nothing is due any more: a second refund issues nothing.
    assert billing.refund_invoice(invoice, actor=staff, today=CANCELLED_DAY, note="again") is None
    assert CreditNote.objects.count() == 1


def test_a_refund_needs_a_note_and_changes_nothing_without_one():
    invoice, _payment = paid_after_cancellation()
    with pytest.raises(DomainError) as refused:
        billing.refund_invoice(invoice, actor=None, today=CANCELLED_DAY, note=" ")
    assert refused.value.code == "note_required"
    assert not CreditNote.objects.exists()


def test_credit_note_numbers_are_gapless_per_year_and_a_rollback_leaves_no_hole():
    with transaction.atomic():
        assert next_credit_note_sequence(2027) == 1
    try:
        with transaction.atomic():
            next_credit_note_sequence(2027)
            raise RuntimeError("issue rolled back")
    except RuntimeError:
        pass
    with transaction.atomic():
        assert next_credit_note_sequence(2027) == 2
    assert CreditNoteSequence.objects.get(year=2027).last == 2


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs pdftotext")
def test_the_credit_note_pdf_refers_to_its_invoice_in_the_purchaser_language(tmp_path):
    invoice, payment = paid_after_cancellation(language="fr")
    actions.refund_payment(
        payment.pk, actor=UserFactory(is_staff=True), note="Remboursement", today=CANCELLED_DAY
    )
    path = tmp_path / "cn.pdf"
    path.write_bytes(render_credit_note_pdf(CreditNote.objects.get()))
    text = " ".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for expected in ("Avoir", "CN-2027-000001", invoice.number, "N° de TVA : FR40123456824"):
        assert expected in text, expected


def test_orders_api_and_portal_list_the_credit_note_scoped():
    invoice, payment = paid_after_cancellation(language="en")
    actions.refund_payment(
        payment.pk, actor=UserFactory(is_staff=True), note="refund", today=CANCELLED_DAY
    )
    owner = invoice.order.placed_by
    order = client_for(owner).get(f"/api/v1/orders/{invoice.order.number}").json()
    assert order["credit_notes"] == [
        {
            "number": "CN-2027-000001",
            "amount": {"amount": "6804.00", "currency": "EUR"},
            "pdf_url": "http://testserver/billing/credit-notes/CN-2027-000001.pdf",
        }
    ]
    from django.test import Client

    web = Client()
    web.force_login(owner)
    assert web.get("/billing/credit-notes/CN-2027-000001.pdf").status_code == 200
    assert "CN-2027-000001" in web.get(f"/billing/orders/{invoice.order.number}/").content.decode()
    web.force_login(UserFactory())
    assert web.get("/billing/credit-notes/CN-2027-000001.pdf").status_code == 404


def test_a_credit_note_is_an_event_for_the_vendors_systems_once(django_capture_on_commit_callbacks):
    # R22: credit_note.issued carries the credit note, the invoice and order it refers to.
    from renewals.events.models import Event

    invoice, payment = paid_after_cancellation()
    staff = UserFactory(is_staff=True)
    with django_capture_on_commit_callbacks():
        actions.refund_payment(payment.pk, actor=staff, note="IBAN refund", today=CANCELLED_DAY)
    event = Event.objects.get(type="credit_note.issued")
    credit = event.data["object"]
    assert credit["number"] == "CN-2027-000001"
    assert (credit["invoice"], credit["order"]) == (invoice.number, invoice.order.number)
    assert credit["total"] == {"amount": "6804.00", "currency": "EUR"}
    assert credit["subtotal"] == {"amount": "5670.00", "currency": "EUR"}
    assert credit["pdf_url"].endswith("/billing/credit-notes/CN-2027-000001.pdf")
    assert credit["subscription_ids"] == [line["subscription_id"] for line in invoice.lines]
    assert event.customer_ids == [invoice.customer_id]
    # A second refund issues no credit note, so no second event.
    billing.refund_invoice(invoice, actor=staff, today=CANCELLED_DAY, note="again")
    assert Event.objects.filter(type="credit_note.issued").count() == 1

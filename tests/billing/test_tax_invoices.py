"""Tax invoices for every paid or invoiced order (R20), and their PDFs read back as text."""

import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest

from renewals.accounts.models import Customer
from renewals.billing import actions as billing
from renewals.billing.document import invoice_document
from renewals.billing.models import Invoice
from renewals.billing.pdf import render_invoice_pdf
from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments import actions
from tests.factories import CustomerFactory, TaxRateFactory, UserFactory, priced_subscription
from tests.payments.helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs pdftotext (Debian poppler-utils)"
)


def pdf_text(pdf: bytes, tmp_path, *options) -> str:
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", *options, "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out


def flat(text: str) -> str:
    """The PDF's words with every line break and run of spaces as one space."""
    return " ".join(text.split())


def pay_card(subs, today=TODAY, **kwargs):
    order = order_for(subs, today=today, **kwargs)
    return actions.start_payment(
        order, method="card", card_token="4242424242424242", user=order.placed_by, today=today
    )


def test_a_card_order_gets_its_tax_invoice_issued_paid_when_it_is_paid():
    sub = eur_subscription()
    payment = pay_card([sub])
    invoice = Invoice.objects.get()
    assert payment.order.status == "paid"
    assert (invoice.status, invoice.state, invoice.issued_on, invoice.paid_on) == (
        "paid",
        "paid",
        TODAY,
        TODAY,
    )
    assert invoice.number == "INV-2027-000001"
    assert not Email.objects.filter(kind="invoice-issued").exists()
    confirmation = Email.objects.get(kind="order-confirmation")
    assert "/billing/invoices/INV-2027-000001.pdf" in confirmation.text
    assert "INV-2027-000001" in confirmation.html


def test_a_declined_card_and_money_the_door_refuses_get_no_invoice():
    sub = eur_subscription()
    order = order_for([sub])
    actions.start_payment(
        order, method="card", card_token="4000000000000002", user=order.placed_by, today=TODAY
    )
    assert Order.objects.get().status == "failed"
    assert not Invoice.objects.exists()


def test_konbini_invoice_is_issued_when_the_payment_arrives_not_at_checkout():
    sub = jpy_subscriptions(1)[0]
    order = order_for([sub])
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    assert not Invoice.objects.exists()
    actions.payment_succeeded(payment.reference, source="test", today=date(2027, 3, 2))
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.issued_on, invoice.language) == (
        "paid",
        date(2027, 3, 2),
        "ja",
    )


@needs_pdftotext
def test_french_invoice_pdf_has_every_legal_field_in_french(tmp_path):
    customer = CustomerFactory(
        name="Atelier Dupont", country="FR", address="12 rue des Lilas\n69002 Lyon", vat_id=""
    )
    user = UserFactory(language="fr")
    sub = eur_subscription(customer=customer, purchaser=user)
    order = order_for([sub])
    Order.objects.filter(pk=order.pk).update(purchase_order="BC-2027-0042")
    actions.start_payment(
        Order.objects.get(pk=order.pk),
        method="card",
        card_token="4242424242424242",
        user=user,
        today=TODAY,
    )
    invoice = Invoice.objects.get()
    text = flat(pdf_text(render_invoice_pdf(invoice), tmp_path, "-layout"))
    for expected in (
        "Facture",
        "INV-2027-000001",
        "Renewals Demo Vendor SAS",
        "1 rue de la Paix, 75002 Paris, France",
        "N° de TVA : FR40123456824",
        "Atelier Dupont",
        "12 rue des Lilas",
        "69002 Lyon",
        "Pays : France (FR)",
        "BC-2027-0042",
        order.number,
        sub.pk,
        "1er mars 2027",  # date of issue, in French
        "Total HT (TVA 20 %)",
        "TVA à 20 %",
        "Payée le 1er mars 2027",
    ):
        assert expected in text, expected
    assert "6 804,00 €" in text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Merci de régler" not in text  # paid: no payment request


@needs_pdftotext
def test_japanese_invoice_pdf_is_a_qualified_invoice_with_tax_per_rate(tmp_path):
    customer = CustomerFactory(
        name="山田設計株式会社", country="JP", address="東京都千代田区丸の内1-1-1"
    )
    subs = jpy_subscriptions(3, customer=customer, price="12345")
    pay_card(subs)
    invoice = Invoice.objects.get()
    # R6/R20: tax once per rate on the subtotal (37,035 × 10 % = 3,703.5 → 3,704), not per line.
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("37035"),
        Decimal("3704"),
        Decimal("40739"),
    )
    pdf = render_invoice_pdf(invoice)
    assert b"/FontFile2" in pdf  # the Japanese font is embedded, not referenced
    text = flat(pdf_text(pdf, tmp_path, "-layout"))
    for expected in (
        "適格請求書",
        "登録番号：T1234567890123",
        "山田設計株式会社",
        "東京都千代田区丸の内1-1-1",
        "10 %対象 小計（税抜）",
        "消費税（10 %）",
        "2027年3月1日",
    ):
        assert expected in text, expected
    assert "37,035" in text and "3,704" in text and "40,739" in text


@needs_pdftotext
def test_english_unpaid_invoice_pdf_asks_for_payment_with_the_bank_details(tmp_path):
    user = UserFactory(language="en")
    sub = eur_subscription(purchaser=user, purchase_method="invoice", payment_method="invoice")
    order = order_for([sub], method="invoice")
    actions.start_payment(order, method="invoice", user=user, today=TODAY)
    text = flat(pdf_text(render_invoice_pdf(Invoice.objects.get()), tmp_path, "-layout"))
    for expected in (
        "Tax invoice",
        "Unpaid, due on 31 March 2027",
        "Please pay €6,804.00 by 31 March 2027, quoting INV-2027-000001.",
        "Bank transfer to: IBAN FR76 3000 6000 0112 3456 7890 189",
    ):
        assert expected in text, expected
    billing.mark_overdue_invoices(date(2027, 3, 31))
    text = flat(pdf_text(render_invoice_pdf(Invoice.objects.get()), tmp_path, "-layout"))
    assert "Overdue: was due on 31 March 2027" in text


@needs_pdftotext
def test_german_reverse_charge_invoice_prints_the_mention_and_both_vat_ids(tmp_path):
    TaxRateFactory(country="DE", rate="0.19")
    customer = CustomerFactory(
        name="Müller Ingenieure GmbH", country="DE", vat_id="DE123456789", vat_id_validated=True
    )
    sub = priced_subscription(customer=customer, purchaser=UserFactory(language="en"))
    pay_card([sub])
    invoice = Invoice.objects.get()
    assert (invoice.reverse_charge, invoice.tax) == (True, Decimal("0"))
    text = flat(pdf_text(render_invoice_pdf(invoice), tmp_path, "-layout"))
    for expected in (
        "Müller Ingenieure GmbH",
        "VAT id: DE123456789",
        "VAT id: FR40123456824",
        "Reverse charge: VAT to be accounted for by the recipient",
        "Tax at 0 %",
    ):
        assert expected in text, expected


@needs_pdftotext
def test_a_very_long_name_wraps_and_is_never_cut(tmp_path):
    name = (
        "Internationale Gesellschaft für Präzisionsmaschinenbau und Ingenieurdienstleistungen " * 2
    )
    customer = CustomerFactory(name=name.strip(), country="FR")
    sub = eur_subscription(customer=customer, purchaser=UserFactory(language="en"))
    pay_card([sub])
    # Reading order (not -layout, which interleaves the seller's and the buyer's columns).
    text = flat(pdf_text(render_invoice_pdf(Invoice.objects.get()), tmp_path, "-nopgbrk"))
    assert Customer.objects.get(pk=customer.pk).name in text


def test_the_html_view_shows_the_same_document_and_is_scoped(client):
    sub = eur_subscription(purchaser=UserFactory(language="fr"))
    pay_card([sub])
    client.force_login(sub.purchaser)
    html = client.get("/billing/invoices/INV-2027-000001/").content.decode()
    assert "Facture" in html and "N° de TVA\u00a0: FR40123456824" in html
    assert "/billing/invoices/INV-2027-000001.pdf" in html
    client.force_login(UserFactory())
    assert client.get("/billing/invoices/INV-2027-000001/").status_code == 404


def test_an_unpaid_invoice_names_the_customers_own_bank_transfer_account():
    # #12: the JP virtual account the gateway gave the CSN is on the order and on the invoice.
    user = UserFactory(language="en")
    sub = eur_subscription(purchaser=user, purchase_method="invoice", payment_method="invoice")
    Customer.objects.filter(pk=sub.customer_id).update(
        bank_transfer_account={
            "bank_name": "Sumitomo Mitsui",
            "bank_code": "0009",
            "branch_name": "Tokyo",
            "branch_code": "123",
            "account_type": "futsu",
            "account_number": "1234567",
            "account_holder": "RENEWALS KK",
        }
    )
    order = order_for([sub], method="invoice")
    actions.start_payment(order, method="invoice", user=user, today=TODAY)
    notes = invoice_document(Invoice.objects.get()).notes
    assert (
        "Or pay by bank transfer to your own account: Sumitomo Mitsui (0009), Tokyo (123), "
        "futsu, 1234567 (RENEWALS KK)"
    ) in notes


def test_an_invoice_without_a_virtual_account_names_none():
    user = UserFactory(language="en")
    sub = eur_subscription(purchaser=user, purchase_method="invoice", payment_method="invoice")
    order = order_for([sub], method="invoice")
    actions.start_payment(order, method="invoice", user=user, today=TODAY)
    notes = invoice_document(Invoice.objects.get()).notes
    assert not [n for n in notes if "your own account" in n]

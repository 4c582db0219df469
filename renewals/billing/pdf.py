"""The invoice as a PDF (reportlab): seller, customer, lines, tax, total, due date (R9)."""

from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from renewals.checkout.pricing import REVERSE_CHARGE_NOTE, tax_percent
from renewals.core.money import format_money, money

from .models import Invoice

CJK_FONT = "HeiseiKakuGo-W5"  # a standard CID font: Japanese names print without embedding


def _font_for(text: str) -> str:
    if all(ord(ch) < 0x250 for ch in text):
        return "Helvetica"
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """Render an invoice as PDF bytes."""
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    pdf.setTitle(invoice.number)
    pdf.setAuthor(invoice.seller.get("name", ""))
    width, height = A4
    y = height - 25 * mm

    def text(x, value, size=10, bold=False):
        value = str(value)
        font = _font_for(value)
        pdf.setFont("Helvetica-Bold" if bold and font == "Helvetica" else font, size)
        pdf.drawString(x, y, value)

    def fmt(amount):
        return format_money(money(amount, invoice.currency), "en")

    text(20 * mm, "INVOICE", 18, bold=True)
    text(120 * mm, invoice.number, 12, bold=True)
    y -= 8 * mm
    text(120 * mm, f"Issued: {invoice.issued_on.isoformat()}")
    y -= 5 * mm
    text(120 * mm, f"Due: {invoice.due_date.isoformat()}", bold=True)
    y -= 5 * mm
    text(120 * mm, f"Order: {invoice.order.number}")
    y -= 12 * mm
    seller, bill_to = invoice.seller, invoice.bill_to
    text(20 * mm, "From", bold=True)
    text(110 * mm, "Bill to", bold=True)
    rows = [
        (seller.get("name", ""), bill_to.get("name", "")),
        (seller.get("address", ""), f"CSN {bill_to.get('csn', '')}"),
        (
            f"VAT: {seller.get('vat_id', '')}",
            bill_to.get("address", "") or bill_to.get("country", ""),
        ),
        (
            f"Registration: {seller.get('registration_number', '')}",
            f"VAT: {bill_to['vat_id']}" if bill_to.get("vat_id") else "",
        ),
    ]
    for left, right in rows:
        y -= 5 * mm
        text(20 * mm, left[:60])
        text(110 * mm, right[:60])
    y -= 14 * mm
    for x, head in ((20, "Subscription / product"), (105, "Term"), (150, "Seats"), (165, "Amount")):
        text(x * mm, head, bold=True)
    for line in invoice.lines:
        y -= 6 * mm
        if y < 40 * mm:
            pdf.showPage()
            y = height - 25 * mm
        text(20 * mm, f"{line['subscription_id']} {line['product']}"[:48])
        text(105 * mm, f"{line['term_start']} - {line['term_end']}", 8)
        text(150 * mm, line["seats"])
        text(165 * mm, fmt(line["amount"]))
    y -= 10 * mm
    rate = tax_percent(invoice.tax_rate)
    for label, amount, bold in (
        ("Subtotal", invoice.subtotal, False),
        (f"Tax ({rate} %)", invoice.tax, False),
        ("Total", invoice.total, True),
    ):
        text(130 * mm, label, bold=bold)
        text(165 * mm, fmt(amount), bold=bold)
        y -= 6 * mm
    if invoice.reverse_charge:
        y -= 4 * mm
        text(20 * mm, REVERSE_CHARGE_NOTE, 8)
    y -= 8 * mm
    text(
        20 * mm, f"Payment due by {invoice.due_date.isoformat()}. Please quote {invoice.number}.", 9
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()

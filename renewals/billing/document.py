"""What a tax invoice says, in its purchaser's language (R20): one source for its HTML and PDF.

`invoice_document(invoice)` turns an issued invoice (its frozen seller, buyer and lines) into
plain translated strings: the portal's HTML view and the PDF both render this, so they never
disagree. Nothing here reads the clock or the database beyond the invoice and its customer.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from renewals.checkout.pricing import REVERSE_CHARGE_NOTE, tax_percent
from renewals.core.formatting import colon_text, country_name, long_date
from renewals.core.money import format_money, money

from .models import Invoice

LANGUAGES = ("en", "fr", "ja")
TERM_LABELS = {
    "monthly": gettext_noop("monthly"),
    "annual": gettext_noop("annual"),
    "three_year": gettext_noop("three-year"),
}


def _term_label(term: str) -> str:
    """The term as the start of a cell: "Annual", "Annuel", "年次" (#17)."""
    label = _(TERM_LABELS[term])
    return label[:1].upper() + label[1:]


@dataclass(frozen=True)
class Party:
    heading: str
    lines: list[str]


@dataclass(frozen=True)
class Row:
    description: str  # product and subscription id
    term: str  # "annual: 31 March 2027 – 31 March 2028"
    seats: str
    unit_price: str
    amount: str
    tax_rate: str


@dataclass(frozen=True)
class InvoiceDocument:
    language: str
    title: str
    number: str
    facts: list[tuple[str, str]]  # (label, value): dates, order, purchase order, status
    seller: Party
    buyer: Party
    headings: list[str]
    rows: list[Row]
    totals: list[tuple[str, str]]  # per-rate base and tax (R20, JP qualified invoice), total
    notes: list[str] = field(default_factory=list)
    status: str = ""
    paid: bool = False


def invoice_language(language: str | None) -> str:
    """Return the language an invoice is written in: the purchaser's when we have it (R13)."""
    return language if language in LANGUAGES else "en"


def invoice_document(invoice: Invoice, *, state: str | None = None) -> InvoiceDocument:
    """Build the content of an invoice in its language, every amount and date formatted."""
    language = invoice_language(invoice.language)
    with translation.override(language):
        return _document(invoice, language, state or invoice.state)


def _document(invoice: Invoice, language: str, state: str) -> InvoiceDocument:
    currency = invoice.currency

    def fmt(amount) -> str:
        return format_money(money(Decimal(str(amount)), currency), language)

    seller, buyer = invoice.seller, invoice.bill_to
    rate = tax_percent(Decimal(invoice.tax_rate)) + " %"
    status_words = {
        "paid": _("Paid on %(day)s") % {"day": long_date(invoice.paid_on, language)}
        if invoice.paid_on
        else _("Paid"),
        "unpaid": _("Unpaid, due on %(due)s") % {"due": long_date(invoice.due_date, language)},
        "overdue": _("Overdue: was due on %(due)s")
        % {"due": long_date(invoice.due_date, language)},
    }
    facts = [
        (_("Invoice number"), invoice.number),
        (_("Date of issue"), long_date(invoice.issued_on, language)),
        (_("Order"), invoice.order.number),
        (_("Customer number (CSN)"), buyer.get("csn", "")),
    ]
    if invoice.purchase_order:
        facts.append((_("Your purchase order"), invoice.purchase_order))
    if state != "paid":
        facts.append((_("Due date"), long_date(invoice.due_date, language)))
    facts.append((_("Payment status"), status_words.get(state, state)))
    seller_lines = [seller.get("name", ""), *_address_lines(seller.get("address", ""))]
    if seller.get("vat_id"):
        seller_lines.append(_("VAT id: %(id)s") % {"id": seller["vat_id"]})
    if seller.get("registration_number"):
        # Japan's qualified-invoice registration number (T + 13 digits).
        seller_lines.append(
            _("Registration number: %(number)s") % {"number": seller["registration_number"]}
        )
    buyer_lines = [buyer.get("name", ""), *_address_lines(buyer.get("address", ""))]
    if buyer.get("country"):
        buyer_lines.append(
            _("Country: %(country)s") % {"country": country_name(buyer["country"], language)}
        )
    if buyer.get("vat_id"):
        buyer_lines.append(_("VAT id: %(id)s") % {"id": buyer["vat_id"]})
    rows = [
        Row(
            description=f"{line['product']} — {line['subscription_id']}",
            term=(
                (
                    _term_label(line["term"]) + colon_text(language)
                    if line.get("term") in TERM_LABELS
                    else ""
                )
                + long_date(_iso(line["term_start"]), language)
                + " – "
                + long_date(_iso(line["term_end"]), language)
            ),
            seats=str(line["seats"]),
            unit_price=fmt(line["unit_price"]),
            amount=fmt(line["amount"]),
            tax_rate=rate,
        )
        for line in invoice.lines
    ]
    totals = [
        (_("Subtotal (%(rate)s)") % {"rate": rate}, fmt(invoice.subtotal)),
        (_("Tax at %(rate)s") % {"rate": rate}, fmt(invoice.tax)),
        (_("Total"), fmt(invoice.total)),
    ]
    notes = []
    if invoice.reverse_charge:
        notes.append(_(REVERSE_CHARGE_NOTE))
    if state != "paid":
        notes.append(
            _("Please pay %(total)s by %(due)s, quoting %(number)s.")
            % {
                "total": fmt(invoice.total),
                "due": long_date(invoice.due_date, language),
                "number": invoice.number,
            }
        )
        bank = seller.get("bank_account", "")
        if bank:
            notes.append(_("Bank transfer to: %(account)s") % {"account": bank})
        virtual = _virtual_account(invoice)
        if virtual:
            # The JP virtual account the gateway gave this CSN: the same for all its orders (R9).
            notes.append(
                _("Or pay by bank transfer to your own account: %(account)s") % {"account": virtual}
            )
    if invoice.refund_due:
        notes.append(_("Refund due: %(amount)s") % {"amount": fmt(invoice.refund_due)})
    return InvoiceDocument(
        language=language,
        title=_("Tax invoice"),
        number=invoice.number,
        facts=facts,
        seller=Party(_("Seller"), [s for s in seller_lines if s]),
        buyer=Party(_("Bill to"), [s for s in buyer_lines if s]),
        headings=[_("Description"), _("Term"), _("Seats"), _("Unit price"), _("Tax"), _("Amount")],
        rows=rows,
        totals=totals,
        notes=notes,
        status=status_words.get(state, state),
        paid=state == "paid",
    )


def _virtual_account(invoice: Invoice) -> str:
    """The customer's bank-transfer virtual account in one line, or "" when it has none."""
    account = invoice.customer.bank_transfer_account or {}
    if not account.get("account_number"):
        return ""
    bank = " ".join(p for p in (account.get("bank_name"), _code(account.get("bank_code"))) if p)
    branch = " ".join(
        p for p in (account.get("branch_name"), _code(account.get("branch_code"))) if p
    )
    parts = [bank, branch, account.get("account_type", ""), account["account_number"]]
    line = ", ".join(p for p in parts if p)
    holder = account.get("account_holder")
    return f"{line} ({holder})" if holder else line


def _code(code: str | None) -> str:
    return f"({code})" if code else ""


def _address_lines(address: str) -> list[str]:
    return [part.strip() for part in (address or "").splitlines() if part.strip()]


def _iso(value: str) -> date:
    return date.fromisoformat(value)


def credit_note_document(credit) -> InvoiceDocument:
    """Build the content of a credit note, referring to its invoice, in the invoice's language."""
    invoice = credit.invoice
    language = invoice_language(credit.language)
    with translation.override(language):
        base = _document(invoice, language, "paid")
        currency = credit.currency

        def fmt(amount) -> str:
            return format_money(money(Decimal(str(amount)), currency), language)

        rate = tax_percent(Decimal(invoice.tax_rate)) + " %"
        return InvoiceDocument(
            language=language,
            title=_("Credit note"),
            number=credit.number,
            facts=[
                (_("Credit note number"), credit.number),
                (_("Date of issue"), long_date(credit.issued_on, language)),
                (_("Refers to invoice"), invoice.number),
                (_("Order"), invoice.order.number),
                (_("Customer number (CSN)"), invoice.bill_to.get("csn", "")),
            ],
            seller=base.seller,
            buyer=base.buyer,
            headings=base.headings,
            rows=[
                Row(
                    description=_("Refund: %(reason)s") % {"reason": credit.reason},
                    term="",
                    seats="",
                    unit_price="",
                    amount=fmt(credit.subtotal),
                    tax_rate=rate,
                )
            ],
            totals=[
                (_("Subtotal (%(rate)s)") % {"rate": rate}, fmt(credit.subtotal)),
                (_("Tax at %(rate)s") % {"rate": rate}, fmt(credit.tax)),
                (_("Total credited"), fmt(credit.total)),
            ],
            notes=[
                _("This credit note refunds %(amount)s of invoice %(number)s.")
                % {"amount": fmt(credit.total), "number": invoice.number}
            ],
            status=_("Refunded"),
            paid=True,
        )

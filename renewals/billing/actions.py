"""The writes of billing: issue an invoice, mark it overdue, record it paid (R9, R19).

An invoice order renews at once (the order is fulfilled by payments and becomes `invoiced`); if
its invoice is still unpaid on its due date, the subscriptions it renewed enter the expiry
process of R2 from that date (their `lapse_date` moves back to the due date); paying it restores
`lapse_date = renewal_date` and makes the order `paid`. Money for a subscription already
cancelled when the invoice is paid restores nothing: it is flagged on the invoice for staff to
refund (`refund_due`) and the customer is told.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from renewals.checkout import orders
from renewals.checkout.emails import order_email_context
from renewals.checkout.models import Order
from renewals.checkout.pricing import order_totals
from renewals.core import audit
from renewals.core.errors import DomainError
from renewals.core.formatting import long_date
from renewals.core.money import format_money, money, quantize
from renewals.events import outbox as events
from renewals.notifications.outbox import queue_email
from renewals.subscriptions.actions import restore_lapse_dates, start_lapse

from .models import CreditNote, Invoice
from .numbering import (
    format_credit_note_number,
    format_invoice_number,
    next_credit_note_sequence,
    next_invoice_sequence,
)


def pdf_path(number: str) -> str:
    """Return the portal path of an invoice's PDF."""
    return f"/billing/invoices/{number}.pdf"


def invoice_fulfilled_order(order: Order, lines=None, *, today: date) -> Invoice | None:
    """Issue the invoice of an order the renewal door just fulfilled (checkout's `on_fulfilled`).

    An `invoiced` order (net terms, R9) gets its unpaid invoice, due in INVOICE_NET_DAYS; a
    `paid` one (card, konbini, transfer) its tax invoice issued paid (R20). Any other status
    (money the door refused, kept for refund) gets none. `lines`: the order's lines with their
    subscriptions, purchasers and products, as fulfilment loaded them (read again if None).
    """
    if order.status in ("invoiced", "paid"):
        return issue_invoice(order, today=today, lines=lines)
    return None


@transaction.atomic(savepoint=False)  # joins the fulfilment's transaction (#15)
def issue_invoice(order: Order, *, today: date, actor=None, lines=None) -> Invoice:
    """Issue the tax invoice of a paid or invoiced order with a gapless number (R9, R20).

    A paid order's invoice is issued paid on `today`; an invoiced order's is unpaid, due in
    INVOICE_NET_DAYS, and queues `invoice-issued` after commit (a paid order's confirmation
    email links its invoice instead). It is written in the purchaser's language, with the
    seller, buyer, purchase order and lines frozen. Idempotent: an order has at most one invoice.
    `lines`, when given, are the order's lines as its fulfilment loaded them (with subscription,
    product and purchaser); otherwise they are read.
    """
    existing = Invoice.objects.filter(order=order).first()
    if existing:
        return existing
    if lines is None:
        lines = list(
            order.lines.select_related("subscription__offering", "subscription__purchaser")
        )
    customer = order.customer
    paid = order.status == "paid"
    purchaser = order.placed_by or (lines[0].subscription.purchaser if lines else None)
    sequence = next_invoice_sequence(today.year)
    invoice = Invoice.objects.create(
        number=format_invoice_number(today.year, sequence),
        year=today.year,
        sequence=sequence,
        order=order,
        customer=customer,
        issued_on=today,
        due_date=today if paid else today + timedelta(days=settings.INVOICE_NET_DAYS),
        status="paid" if paid else "unpaid",
        paid_on=today if paid else None,
        language=getattr(purchaser, "language", "") or "en",
        purchase_order=order.purchase_order,
        currency=order.currency,
        subtotal=order.subtotal,
        tax=order.tax,
        total=order.total,
        tax_rate=order.tax_rate,
        reverse_charge=order.reverse_charge,
        seller=dict(settings.SELLER),
        bill_to={
            "name": customer.name,
            "csn": customer.csn,
            "country": customer.country,
            "vat_id": customer.vat_id,
            "address": customer.address,
        },
        lines=[
            {
                "subscription_id": line.subscription_id,
                "product": line.subscription.offering.name,
                "product_code": line.subscription.offering.code,
                "term": line.term,  # what this line bought (R21), read from its dates
                "seats": line.seats,
                "unit_price": str(line.unit_price),
                "amount": str(line.amount),
                "term_start": line.term_start.isoformat(),
                "term_end": line.term_end.isoformat(),
            }
            for line in lines
        ],
    )
    audit.record(
        invoice, action="invoice_issued", actor=actor, order=order.number, status=invoice.status
    )
    if not paid:
        events.emit("order.invoiced", [order], today=today)
        _email(invoice, order, lines, "invoice-issued")
    return invoice


def mark_overdue_invoices(today: date) -> int:
    """Start the expiry process of every unpaid invoice due on or before `today` (R2, R9).

    The subscriptions it renewed get `lapse_date = due date` (never later than it was), so
    their stage counts from the due date. Each invoice is marked once; returns how many.
    """
    ids = list(
        Invoice.objects.filter(
            status="unpaid", overdue_since__isnull=True, due_date__lte=today
        ).values_list("pk", flat=True)
    )
    return sum(_mark_overdue(pk) for pk in ids)


@transaction.atomic
def _mark_overdue(invoice_id: int) -> bool:
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.status != "unpaid" or invoice.overdue_since:
        return False
    invoice.overdue_since = invoice.due_date
    invoice.save(update_fields=["overdue_since"])
    sub_ids = [line["subscription_id"] for line in invoice.lines]
    # lapse_date <= renewal_date holds: the due date is earlier than the term the invoice paid.
    moved = start_lapse(sub_ids, day=invoice.due_date, label="daily", invoice=invoice.number)
    audit.record(invoice, action="invoice_overdue", label="daily", subscriptions_moved=moved)
    events.emit("invoice.overdue", [invoice])
    order = invoice.order
    _email(
        invoice,
        order,
        list(order.lines.select_related("subscription__offering")),
        "invoice-overdue",
    )
    return True


@transaction.atomic
def invoice_paid(invoice: Invoice, *, actor, today: date, label: str = "") -> bool:
    """Record an invoice paid on `today`; its subscriptions leave the expiry process. Return changed.

    Through the subscriptions' door, which never restores a cancelled subscription (R2, R19):
    the share of the invoice paid for those is flagged `refund_due` for staff and the purchaser
    is told. The order becomes `paid` (confirmation email) — or, when every subscription it
    renewed was already cancelled, keeps the money as `payment_after_release` (R19).
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == "paid":
        return False
    invoice.status = "paid"
    invoice.paid_on = today
    invoice.save(update_fields=["status", "paid_on"])
    sub_ids = [line["subscription_id"] for line in invoice.lines]
    # A subscription also renewed by another overdue invoice stays in the expiry process.
    blocked: set[str] = set()
    for other in (
        Invoice.objects.filter(status="unpaid", overdue_since__isnull=False)
        .exclude(pk=invoice.pk)
        .only("lines")
    ):
        blocked.update(line["subscription_id"] for line in other.lines)
    restored, refused = restore_lapse_dates(
        [s for s in sub_ids if s not in blocked],
        today=today,
        actor=actor,
        label=label,
        invoice=invoice.number,
    )
    source = label or getattr(actor, "email", "") or "system"
    audit.record(
        invoice,
        action="invoice_paid",
        actor=actor,
        label="" if actor else (label or "system"),
        subscriptions_restored=len(restored),
        subscriptions_left_cancelled=refused,
    )
    events.emit("invoice.paid", [invoice], today=today)
    if not refused:
        orders.order_invoice_paid(invoice.order_id, actor_label=source)
        return True
    invoice.refund_due = refund_share(invoice, set(refused))
    invoice.save(update_fields=["refund_due"])
    audit.record(
        invoice,
        action="refund_due",
        actor=actor,
        label="" if actor else (label or "system"),
        amount=str(invoice.refund_due),
        subscriptions=refused,
    )
    if set(refused) == set(sub_ids):
        # Nothing this money paid for can come back: kept on the order, the customer told (R19).
        orders.keep_payment(invoice.order_id, reason="cancelled", today=today, actor_label=source)
    else:
        orders.order_invoice_paid(invoice.order_id, actor_label=source)
        order = invoice.order
        lines = [
            line
            for line in order.lines.select_related(
                "subscription__offering", "subscription__purchaser"
            )
            if line.subscription_id in refused
        ]
        _email(invoice, order, lines, "invoice-refund-due", recorded_on=today)
    return True


def refund_share(invoice: Invoice, subscription_ids: set[str]) -> Decimal:
    """Return what the invoice charged for these subscriptions, tax included (R6 rounding)."""
    amounts = [
        Decimal(line["amount"])
        for line in invoice.lines
        if line["subscription_id"] in subscription_ids
    ]
    if len(amounts) == len(invoice.lines):
        return Decimal(invoice.total)
    prices = [money(amount, invoice.currency) for amount in amounts]
    return order_totals(prices, invoice.currency, Decimal(invoice.tax_rate)).total.amount


def _email(invoice: Invoice, order: Order, lines, kind: str, recorded_on=None) -> None:
    user = order.placed_by or (lines[0].subscription.purchaser if lines else None)
    if user is None:
        return
    language = user.language or "en"
    context = {
        **order_email_context(order, lines, language),
        "invoice_number": invoice.number,
        "invoice_total": format_money(money(invoice.total, invoice.currency), language),
        "refund_due": format_money(money(invoice.refund_due, invoice.currency), language),
        "due_date": long_date(invoice.due_date, language),
        "recorded_on": long_date(recorded_on, language) if recorded_on else "",
        "pdf_path": pdf_path(invoice.number),
        "name": user.get_short_name(),
        "invoice_path": f"/billing/invoices/{invoice.number}/",
    }
    queue_email(
        kind=kind,
        to=user.email,
        language=language,
        context=context,
        dedupe_key=f"{kind}:{invoice.number}",
        headers={
            "X-Renewals-Order": order.number,
            "X-Renewals-Subscriptions": ",".join(line.subscription_id for line in lines),
        },
    )


@transaction.atomic
def refund_invoice(invoice: Invoice, *, actor, today: date, note: str) -> CreditNote | None:
    """Record the refund of an invoice's `refund_due` by staff: issue its credit note (R19, R20).

    The credit note refers to the invoice, is numbered gaplessly per year (`CN-<year>-…`, its own
    counter) and is written in the invoice's language; the purchaser gets `credit-note-issued`
    with its PDF. An order that kept the money (`payment_after_release`) becomes `refunded`.
    Returns None when nothing is due (idempotent: a second call changes nothing).
    """
    if not (note or "").strip():
        raise DomainError("note_required")
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    amount = Decimal(invoice.refund_due)
    if amount <= 0:
        return None
    rate = Decimal(invoice.tax_rate)
    subtotal = quantize(amount / (1 + rate), invoice.currency)
    sequence = next_credit_note_sequence(today.year)
    credit = CreditNote.objects.create(
        number=format_credit_note_number(today.year, sequence),
        year=today.year,
        sequence=sequence,
        invoice=invoice,
        issued_on=today,
        currency=invoice.currency,
        subtotal=subtotal,
        tax=amount - subtotal,
        total=amount,
        reason=note.strip(),
        language=invoice.language,
    )
    invoice.refund_due = Decimal("0")
    invoice.save(update_fields=["refund_due"])
    audit.record(
        invoice, action="refunded", actor=actor, credit_note=credit.number, amount=str(amount)
    )
    audit.record(credit, action="credit_note_issued", actor=actor, invoice=invoice.number)
    events.emit("credit_note.issued", [credit], today=today)
    orders.order_refunded(invoice.order_id, actor_label=getattr(actor, "email", "") or "staff")
    order = invoice.order
    lines = list(order.lines.select_related("subscription__offering", "subscription__purchaser"))
    user = order.placed_by or (lines[0].subscription.purchaser if lines else None)
    if user is not None:
        language = user.language or "en"
        queue_email(
            kind="credit-note-issued",
            to=user.email,
            language=language,
            context={
                **order_email_context(order, lines, language),
                "invoice_number": invoice.number,
                "credit_note_number": credit.number,
                "credit_total": format_money(credit.total_money, language),
                "credit_pdf_path": credit_note_pdf_path(credit.number),
            },
            dedupe_key=f"credit-note-issued:{credit.number}",
            headers={"X-Renewals-Order": order.number},
        )
    return credit


def credit_note_pdf_path(number: str) -> str:
    """Return the portal path of a credit note's PDF."""
    return f"/billing/credit-notes/{number}.pdf"

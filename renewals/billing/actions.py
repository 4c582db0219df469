"""The writes of billing: issue an invoice, mark it overdue, record it paid (R9).

An invoice renews at once (the order is fulfilled by payments); if it is still unpaid on its
due date, the subscriptions it renewed enter the expiry process of R2 from that date (their
`lapse_date` moves back to the due date); paying it restores `lapse_date = renewal_date`.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from renewals.checkout.emails import order_email_context
from renewals.checkout.models import Order
from renewals.core import audit
from renewals.core.formatting import long_date
from renewals.core.money import format_money, money
from renewals.notifications.outbox import queue_email
from renewals.subscriptions.actions import restore_lapse_dates, start_lapse

from .models import Invoice
from .numbering import format_invoice_number, next_invoice_sequence


def pdf_path(number: str) -> str:
    """Return the portal path of an invoice's PDF."""
    return f"/billing/invoices/{number}.pdf"


@transaction.atomic
def issue_invoice(order: Order, *, today: date, actor=None) -> Invoice:
    """Issue the invoice of an order, due in INVOICE_NET_DAYS, with a gapless number (R9).

    Idempotent: an order has at most one invoice. Queues `invoice-issued` after commit.
    """
    existing = Invoice.objects.filter(order=order).first()
    if existing:
        return existing
    lines = list(order.lines.select_related("subscription__offering"))
    customer = order.customer
    sequence = next_invoice_sequence(today.year)
    invoice = Invoice.objects.create(
        number=format_invoice_number(today.year, sequence),
        year=today.year,
        sequence=sequence,
        order=order,
        customer=customer,
        issued_on=today,
        due_date=today + timedelta(days=settings.INVOICE_NET_DAYS),
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
                "seats": line.seats,
                "unit_price": str(line.unit_price),
                "amount": str(line.amount),
                "term_start": line.term_start.isoformat(),
                "term_end": line.term_end.isoformat(),
            }
            for line in lines
        ],
    )
    audit.record(invoice, action="invoice_issued", actor=actor, order=order.number)
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
    order = invoice.order
    _email(
        invoice,
        order,
        list(order.lines.select_related("subscription__offering")),
        "invoice-overdue",
    )
    return True


@transaction.atomic
def invoice_paid(invoice: Invoice, *, actor, today: date) -> bool:
    """Record an invoice paid; its subscriptions leave the expiry process (lapse = D). Return changed."""
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
    # R2, R19: through the subscriptions' door, which never restores a cancelled subscription.
    restored, refused = restore_lapse_dates(
        [s for s in sub_ids if s not in blocked], today=today, actor=actor, invoice=invoice.number
    )
    audit.record(
        invoice,
        action="invoice_paid",
        actor=actor,
        label="" if actor else "system",
        subscriptions_restored=len(restored),
        subscriptions_left_cancelled=refused,
    )
    return True


def _email(invoice: Invoice, order: Order, lines, kind: str) -> None:
    user = order.placed_by or (lines[0].subscription.purchaser if lines else None)
    if user is None:
        return
    language = user.language or "en"
    context = {
        **order_email_context(order, lines, language),
        "invoice_number": invoice.number,
        "invoice_total": format_money(money(invoice.total, invoice.currency), language),
        "due_date": long_date(invoice.due_date, language),
        "pdf_path": pdf_path(invoice.number),
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

"""Invoice pages: one invoice as HTML and as its PDF (R17, R20), for users who may see the order.

The HTML view and the PDF render the same `billing.document.invoice_document`, in the language
the invoice is written in (its purchaser's), whatever language the portal is shown in.
"""

import csv
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from renewals.billing.document import invoice_document
from renewals.billing.models import CreditNote, Invoice
from renewals.billing.pdf import render_credit_note_pdf, render_invoice_pdf
from renewals.billing.queries import invoices_visible_to
from renewals.core.money import quantize
from renewals.payments import actions
from renewals.payments.cards import active_cards

MAX_NUMBER_LENGTH = 32  # Invoice.number


visible_invoices = invoices_visible_to


def _visible_invoice(user, number: str) -> Invoice:
    if not number or len(number) > MAX_NUMBER_LENGTH or "\x00" in number:
        raise Http404
    invoice = visible_invoices(user).select_related("order").filter(number=number).first()
    if invoice is None:
        raise Http404("no such invoice")
    return invoice


LIST_PAGE_SIZE = 25
STATE_FILTERS = {
    "paid": {"status": "paid"},
    "unpaid": {"status": "unpaid", "overdue_since__isnull": True},
    "overdue": {"status": "unpaid", "overdue_since__isnull": False},
}


def _filtered(request):
    qs = visible_invoices(request.user).select_related("order", "customer")
    state = request.GET.get("status", "")
    if state in STATE_FILTERS:
        qs = qs.filter(**STATE_FILTERS[state])
    csn = request.GET.get("csn", "").strip()
    if csn:
        qs = qs.filter(customer__csn=csn[:20])
    return qs.order_by("-year", "-sequence"), state, csn


@login_required
def invoice_list(request):
    """List the invoices the user may see, newest first, filtered by status and CSN (R17)."""
    qs, state, csn = _filtered(request)
    page = Paginator(qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/invoices.html",
        {
            "nav": "orders",
            "page": page,
            "state": state,
            "csn": csn,
            "query": urlencode({k: v for k, v in (("status", state), ("csn", csn)) if v}),
        },
    )


@login_required
def invoices_csv(request):
    """The filtered invoices as CSV, for the customer's accounting."""
    qs, _state, _csn = _filtered(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    out = csv.writer(response)
    out.writerow(
        ["number", "order", "csn", "customer", "issued_on", "due_date", "status", "paid_on",
         "currency", "subtotal", "tax", "total", "purchase_order"]
    )  # fmt: skip
    for i in qs.iterator(chunk_size=500):
        out.writerow(
            [
                i.number, i.order.number, i.customer.csn, _cell(i.bill_to.get("name", "")),
                i.issued_on.isoformat(), i.due_date.isoformat(), i.state,
                i.paid_on.isoformat() if i.paid_on else "", i.currency,
                quantize(i.subtotal, i.currency), quantize(i.tax, i.currency),
                quantize(i.total, i.currency), _cell(i.purchase_order),
            ]
        )  # fmt: skip
    return response


def _cell(text: str) -> str:
    """Neutralise a spreadsheet formula in a name typed by someone (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def invoice_pdf(request, number: str):
    """Serve one invoice as a PDF; another customer's number is a 404."""
    invoice = _visible_invoice(request.user, number)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@login_required
def invoice_detail(request, number: str):
    """Show one invoice as the customer's accountant reads it, with its PDF and, while unpaid,
    the way to pay it online (R9); ?return=1 records a payment page's outcome first."""
    from renewals.portal.views import invoice_payment  # it imports this module

    invoice = _visible_invoice(request.user, number)
    if request.GET.get("return") == "1":
        invoice_payment.record_return(request, invoice)
        return redirect("portal:invoice", number=invoice.number)
    under_way = actions.open_invoice_payment(invoice)
    return render(
        request,
        "portal/invoice.html",
        {
            "nav": "orders",
            "invoice": invoice,
            "doc": invoice_document(invoice),
            "under_way": under_way,
            "methods": actions.invoice_payment_methods(invoice)
            if invoice.status != "paid" and under_way is None
            else [],
            "cards": list(active_cards(request.user)),
            "takes_card_number": settings.PAYMENT_GATEWAY == "sandbox",
            "idempotency_key": invoice_payment.new_idempotency_key(),
        },
    )


@login_required
def credit_note_pdf(request, number: str):
    """Serve one credit note as a PDF, to those who may see its invoice; else a 404."""
    if not number or len(number) > MAX_NUMBER_LENGTH or "\x00" in number:
        raise Http404
    credit = (
        CreditNote.objects.filter(number=number, invoice__in=visible_invoices(request.user))
        .select_related("invoice__order")
        .first()
    )
    if credit is None:
        raise Http404("no such credit note")
    response = HttpResponse(render_credit_note_pdf(credit), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{credit.number}.pdf"'
    return response


urls = [
    path("billing/invoices/", invoice_list, name="invoices"),
    path("billing/invoices.csv", invoices_csv, name="invoices_csv"),
    path("billing/credit-notes/<str:number>.pdf", credit_note_pdf, name="credit_note_pdf"),
    path("billing/invoices/<str:number>.pdf", invoice_pdf, name="invoice_pdf"),
    path("billing/invoices/<str:number>/", invoice_detail, name="invoice"),
]

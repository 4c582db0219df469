"""Invoice PDFs at /billing/invoices/<number>.pdf, for users who may see the order (R17)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.urls import path

from renewals.billing.models import Invoice
from renewals.billing.pdf import render_invoice_pdf
from renewals.checkout.orders import orders_visible_to


def visible_invoices(user):
    """Return the invoices `user` may see: those of the orders the user may see (one rule)."""
    return Invoice.objects.filter(order__in=orders_visible_to(user))


@login_required
def invoice_pdf(request, number: str):
    """Serve one invoice as a PDF; another customer's number is a 404."""
    invoice = visible_invoices(request.user).select_related("order").filter(number=number).first()
    if invoice is None:
        raise Http404("no such invoice")
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


urls = [path("billing/invoices/<str:number>.pdf", invoice_pdf, name="invoice_pdf")]

"""Invoices (R9, R20): list, one invoice, its PDF, and paying it online.

`POST /invoices/{number}/pay` goes through `payments.actions.pay_invoice`, the same payment code
as checkout; its Idempotency-Key replays the first answer and never pays twice.
"""

from django.http import HttpResponse
from ninja import Header, Query, Router, Schema, Status
from pydantic import Field

from renewals.billing.models import Invoice
from renewals.billing.pdf import render_invoice_pdf
from renewals.billing.queries import invoices_visible_to as visible_invoices
from renewals.core import clock
from renewals.payments import actions
from renewals.payments.checkout import invoice_payment_kwargs
from renewals.shapes import invoice_detail_json

from .. import idempotency, schemas
from ..errors import ApiError
from ..pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_links, page_slice
from .cart import _payment, _without_card_number

router = Router(tags=["Invoices"])
ERRORS = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 429: schemas.ErrorOut}
STATES = ("paid", "unpaid", "overdue")


class InvoiceQuery(Schema):
    status: str | None = Field(None, description="paid, unpaid or overdue")
    csn: str | None = Field(None, max_length=20)
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


def _pdf_url(request, number: str) -> str:
    return request.build_absolute_uri(f"/api/v1/invoices/{number}.pdf")


def _json(request, invoice: Invoice) -> dict:
    return invoice_detail_json(
        invoice,
        pdf_url=_pdf_url(request, invoice.number),
        payment=actions.open_invoice_payment(invoice),
    )


def visible_invoice(user, number: str) -> Invoice:
    """Return one invoice `user` may see by its number; anything else is a 404."""
    invoice = (
        visible_invoices(user).select_related("order", "customer").filter(number=number).first()
    )
    if invoice is None:
        raise ApiError(404, "not_found", f"No invoice {number} among yours.")
    return invoice


@router.get(
    "/invoices",
    response={200: schemas.InvoicePage, 422: schemas.ErrorOut, **ERRORS},
    summary="List your invoices, newest first",
    operation_id="list_invoices",
)
def list_invoices(request, params: Query[InvoiceQuery]):
    """List the invoices of the orders you may see; filter by `status` and `csn`."""
    qs = visible_invoices(request.user).select_related("order", "customer")
    if params.status:
        if params.status not in STATES:
            raise ApiError(422, "invalid", "status: one of paid, unpaid, overdue.")
        if params.status == "paid":
            qs = qs.filter(status="paid")
        else:
            qs = qs.filter(status="unpaid", overdue_since__isnull=params.status == "unpaid")
    if params.csn:
        qs = qs.filter(customer__csn=params.csn)
    qs = qs.order_by("-year", "-sequence")
    count = qs.count()
    page = list(qs[page_slice(params.page, params.page_size)])
    next_url, previous = page_links(
        request, page=params.page, page_size=params.page_size, count=count
    )
    return {
        "count": count,
        "next": next_url,
        "previous": previous,
        # A page holds no open payment: a list never asks per invoice (no N+1).
        "results": [
            invoice_detail_json(i, pdf_url=_pdf_url(request, i.number), payment=None) for i in page
        ],
    }


@router.get(
    "/invoices/{number}.pdf",
    response={200: None, 404: schemas.ErrorOut, **ERRORS},
    summary="One invoice as a PDF, in its purchaser's language",
    operation_id="get_invoice_pdf",
)
def get_invoice_pdf(request, number: str):
    """Return the invoice's PDF (R20)."""
    invoice = visible_invoice(request.user, number)
    response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


@router.get(
    "/invoices/{number}",
    response={200: schemas.InvoiceDetailOut, 404: schemas.ErrorOut, **ERRORS},
    summary="One invoice",
    operation_id="get_invoice",
)
def get_invoice(request, number: str):
    """Return one invoice with its status, totals and any payment under way."""
    return _json(request, visible_invoice(request.user, number))


class InvoicePayIn(Schema):
    payment: schemas.PaymentIn


@router.post(
    "/invoices/{number}/pay",
    response={
        200: schemas.InvoiceDetailOut,
        404: schemas.ErrorOut,
        409: schemas.ErrorOut,
        422: schemas.ErrorOut,
        **ERRORS,
    },
    summary="Pay an invoice online (card; konbini or bank transfer for JPY)",
    operation_id="pay_invoice",
)
def pay_invoice(
    request,
    number: str,
    body: InvoicePayIn,
    idempotency_key: str = Header(..., alias="Idempotency-Key", min_length=1, max_length=200),
):
    """Pay an unpaid invoice (R9): answers the invoice; paying restores lapsed subscriptions."""
    key = idempotency_key.strip()
    if not key or not key.isprintable():
        raise ApiError(400, "idempotency_key_required", "Send a printable Idempotency-Key.")
    invoice = visible_invoice(request.user, number)
    payment = _payment(body.payment)
    digest = idempotency.body_hash(
        {"invoice_pay": invoice.number, "payment": _without_card_number(payment)}
    )
    record, fresh = idempotency.claim(user=request.user, key=key, digest=digest)
    if not fresh:
        return Status(200, record.response)
    try:
        kwargs = invoice_payment_kwargs(payment, user=request.user)
        actions.pay_invoice(
            invoice,
            user=request.user,
            idempotency_key=key,
            today=clock.today(),
            return_url=f"/billing/invoices/{invoice.number}/?return=1",
            **kwargs,
        )
    except Exception:
        idempotency.release(record)
        raise
    invoice.refresh_from_db()
    result = _json(request, invoice)
    idempotency.complete(record, status=200, body=result)
    return Status(200, result)

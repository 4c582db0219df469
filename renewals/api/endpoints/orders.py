"""Orders: list and detail, with payment instructions and invoice (R7, R9)."""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.http import JsonResponse
from django.urls import NoReverseMatch, reverse
from ninja import Query, Router, Schema
from pydantic import Field

from renewals.billing.actions import credit_note_pdf_path
from renewals.checkout.models import Order, OrderLine
from renewals.checkout.orders import orders_visible_to
from renewals.shapes import credit_note_json, order_json

from .. import schemas
from ..errors import ApiError
from ..pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_links, page_slice

router = Router(tags=["Orders"])
ERRORS = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 429: schemas.ErrorOut}


class OrderQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


def _with_json_relations(qs):
    return qs.select_related("customer", "payment", "invoice").prefetch_related(
        Prefetch(
            "lines", queryset=OrderLine.objects.select_related("subscription__offering", "change")
        ),
        "invoice__credit_notes",
    )


def _related(order, name):
    try:
        return getattr(order, name)
    except ObjectDoesNotExist:
        return None


def _invoice_pdf_url(request, invoice) -> str | None:
    try:
        return request.build_absolute_uri(reverse("portal:invoice_pdf", args=[invoice.number]))
    except NoReverseMatch:
        return None


def orders_json(request, orders) -> list[dict]:
    """Return orders as API JSON (payment and invoice included), without a query per order."""
    result = []
    for order in orders:
        invoice = _related(order, "invoice")
        result.append(
            order_json(
                order,
                payment=_related(order, "payment"),
                invoice=invoice,
                invoice_pdf_url=_invoice_pdf_url(request, invoice) if invoice else None,
                credit_notes=[
                    credit_note_json(c, request.build_absolute_uri(credit_note_pdf_path(c.number)))
                    for c in (invoice.credit_notes.all() if invoice else [])
                ],
            )
        )
    return result


def visible_order(user, number: str) -> Order:
    """Return one order `user` may see by its number; anything else is a 404."""
    order = _with_json_relations(orders_visible_to(user).filter(number=number)).first()
    if order is None:
        raise ApiError(404, "not_found", f"No order {number} among yours.")
    return order


@router.get(
    "/orders",
    response={200: schemas.OrderPage, **ERRORS},
    summary="List your orders, newest first",
    operation_id="list_orders",
)
def list_orders(request, params: Query[OrderQuery]):
    """List the orders for subscriptions you may see, newest first."""
    qs = orders_visible_to(request.user).order_by("-created", "-id")
    count = qs.count()
    page = list(_with_json_relations(qs)[page_slice(params.page, params.page_size)])
    next_url, previous = page_links(
        request, page=params.page, page_size=params.page_size, count=count
    )
    # As for subscriptions: a page of 500 is not re-validated by pydantic (schemathesis checks).
    return JsonResponse(
        {
            "count": count,
            "next": next_url,
            "previous": previous,
            "results": orders_json(request, page),
        }
    )


@router.get(
    "/orders/{number}",
    response={200: schemas.OrderOut, 404: schemas.ErrorOut, **ERRORS},
    summary="One order with its payment and invoice",
    operation_id="get_order",
)
def get_order(request, number: str):
    """Return one order: lines, totals, payment (instructions, 3-D Secure URL) and invoice."""
    return orders_json(request, [visible_order(request.user, number)])[0]

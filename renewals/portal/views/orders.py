"""Portal pages: the orders list and one order, including the 3-D Secure return (R9, R17)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path
from django.utils.translation import gettext as _

from renewals.checkout.emails import reverse_charge_note
from renewals.checkout.models import Order, OrderLine
from renewals.checkout.orders import order_money, orders_visible_to
from renewals.checkout.pricing import tax_percent
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.money import money
from renewals.payments.collecting import return_from_gateway
from renewals.payments.declines import decline_text
from renewals.portal.refusals import refusal_text

log = logging.getLogger(__name__)

PAGE_SIZE = 25
MAX_NUMBER_LENGTH = 32  # Order.number max_length


def _related(obj, name):
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


@login_required
def order_list(request):
    """List the orders of the subscriptions the user can see, newest first, paginated (R17)."""
    queryset = (
        orders_visible_to(request.user)
        .select_related("customer", "payment", "invoice")
        .order_by("-created", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(order, order_money(order)[2]) for order in page.object_list]
    return render(
        request,
        "portal/orders.html",
        {"nav": "orders", "page": page, "rows": rows},
    )


def _visible_order(user, number: str):
    if not number or len(number) > MAX_NUMBER_LENGTH or "\x00" in number:
        raise Http404
    order = (
        orders_visible_to(user)
        .select_related("customer", "payment", "invoice")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404("no such order")
    return order


def _instructions_template() -> bool:
    try:
        get_template("payments/instructions.html")
    except TemplateDoesNotExist:
        return False
    return True


def waiting_money(payment) -> dict | None:
    """What arrived on a konbini / transfer payment that waits, what is owed, the sandbox hint.

    A short transfer waits for the rest (transfers add up); an excess one is flagged for staff,
    who accept it and refund the excess, or refund it all (payments.actions.staff).
    """
    if payment is None or payment.status not in ("pending", "partially_funded"):
        return None
    if payment.method not in ("konbini", "bank_transfer"):
        return None
    instructions = payment.instructions or {}
    code = (instructions.get("konbini") or {}).get("payment_code") or (
        instructions.get("bank_transfer") or {}
    ).get("reference")
    info = {
        "sandbox_code": code if settings.PAYMENT_GATEWAY == "sandbox" and code else "",
        "short": None,
        "excess": None,
    }
    if payment.status == "partially_funded" and payment.received_amount is not None:
        received, owed = payment.received_amount, payment.amount
        info["received"] = money(received, payment.currency)
        info["owed"] = money(owed, payment.currency)
        if received < owed:
            info["short"] = money(owed - received, payment.currency)
        elif received > owed:
            info["excess"] = money(received - owed, payment.currency)
    return info


def renewed_by(order, lines) -> Order | None:
    """The later order that bought the terms a failed order tried to buy, once all are bought.

    While one of its subscriptions still waits for that term, None: the page offers Try again.
    """
    if not lines or any(line.subscription.renewal_date == line.term_start for line in lines):
        return None
    later = (
        OrderLine.objects.filter(
            subscription_id__in=[line.subscription_id for line in lines],
            term_start__in={line.term_start for line in lines},
            order__status__in=("paid", "invoiced"),
        )
        .exclude(order_id=order.pk)
        .select_related("order")
        .order_by("order__created", "order_id")
        .first()
    )
    return later.order if later is not None else None


@login_required
def order_detail(request, number):
    """Show one order; on a 3-D Secure return (?return=1), record the challenge's outcome first."""
    order = _visible_order(request.user, number)
    payment = _related(order, "payment")
    returning = request.GET.get("return") == "1" or (
        request.method == "POST" and request.POST.get("check") == "1"
    )
    if returning and payment is not None:
        if payment.status in ("requires_action", "confirming"):
            try:
                # Ask the gateway what happened; a lost answer leaves it confirming (R10).
                return_from_gateway(payment.pk, source="customer_return", today=clock.today())
            except DomainError as error:
                messages.error(request, refusal_text(error))
        order = _visible_order(request.user, number)
        payment = _related(order, "payment")
        # A confirming or failed order's page says so itself (a failed one with Try again).
        if order.status == "paid":
            messages.success(request, _("Payment received. Your subscriptions are renewed."))
        # Drop ?return=1 so a reload does not show the outcome twice.
        return redirect("portal:order", number=order.number)
    subtotal, tax, total = order_money(order)
    currency = order.currency
    order_lines = list(order.lines.select_related("subscription__offering", "change"))
    lines = [
        (line, money(line.unit_price, currency), money(line.amount, currency))
        for line in order_lines
    ]
    return render(
        request,
        "portal/order.html",
        {
            "nav": "orders",
            "order": order,
            "lines": lines,
            "subtotal": subtotal,
            "tax": tax,
            "total": total,
            "tax_percent": tax_percent(order.tax_rate),
            "payment": payment,
            "invoice": _related(order, "invoice"),
            "decline": decline_text(order.failure_code) if order.status == "failed" else "",
            "renewed_by": renewed_by(order, order_lines) if order.status == "failed" else None,
            "reverse_charge_note": reverse_charge_note() if order.reverse_charge else "",
            "show_instructions": _instructions_template(),
            "waiting": waiting_money(payment),
        },
    )


urls = [
    path("billing/orders/", order_list, name="orders"),
    path("billing/orders/<str:number>/", order_detail, name="order"),
]

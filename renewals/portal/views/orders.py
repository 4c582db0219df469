"""Portal pages: the orders list and one order, including the 3-D Secure return (R9, R17)."""

import logging

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
from renewals.checkout.orders import order_money, orders_visible_to
from renewals.checkout.pricing import tax_percent
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.money import money
from renewals.payments.collecting import return_from_gateway
from renewals.portal.views.cart import decline_text

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
        .select_related("customer", "payment")
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
                messages.error(request, error.message)
        order = _visible_order(request.user, number)
        payment = _related(order, "payment")
        if order.status == "paid":  # a confirming order's page says so itself
            messages.success(request, _("Payment received. Your subscriptions are renewed."))
        elif order.status == "failed":
            messages.error(
                request,
                decline_text(order.failure_code)
                + " "
                + _("Your cart is unchanged: you can try again."),
            )
        # Drop ?return=1 so a reload does not show the outcome twice.
        return redirect("portal:order", number=order.number)
    subtotal, tax, total = order_money(order)
    currency = order.currency
    lines = [
        (line, money(line.unit_price, currency), money(line.amount, currency))
        for line in order.lines.select_related("subscription__offering")
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
            "reverse_charge_note": reverse_charge_note() if order.reverse_charge else "",
            "show_instructions": _instructions_template(),
        },
    )


urls = [
    path("billing/orders/", order_list, name="orders"),
    path("billing/orders/<str:number>/", order_detail, name="order"),
]

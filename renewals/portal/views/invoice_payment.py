"""Portal: pay an invoice online from its page (R9) — card, or konbini / bank transfer for JPY.

The interface only: the form is parsed like the checkout's, `payments.actions.pay_invoice`
does the rest (the same payment code as checkout). A 3-D Secure or payment-page return comes
back to the invoice page with ?return=1, which records the outcome.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.payments import actions
from renewals.payments.checkout import invoice_payment_kwargs
from renewals.payments.collecting import return_from_gateway
from renewals.portal.refusals import refusal_text
from renewals.portal.views.cart import _payment_from_form, decline_text
from renewals.portal.views.invoices import _visible_invoice

RETURN_URL = "/billing/invoices/{number}/?return=1"


def new_idempotency_key() -> str:
    """A key for one rendering of the pay form: a double submit pays once."""
    return uuid.uuid4().hex


@login_required
@require_POST
def pay_invoice(request, number: str):
    """Pay an unpaid invoice; then show its page (or the gateway's payment page)."""
    invoice = _visible_invoice(request.user, number)
    today = clock.today()
    try:
        kwargs = invoice_payment_kwargs(_payment_from_form(request.POST), user=request.user)
        payment = actions.pay_invoice(
            invoice,
            user=request.user,
            idempotency_key=request.POST.get("idempotency_key", ""),
            today=today,
            return_url=RETURN_URL.format(number=invoice.number),
            **kwargs,
        )
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return redirect("portal:invoice", number=invoice.number)
    return after_invoice_payment(request, invoice, payment)


def after_invoice_payment(request, invoice, payment):
    """Send the customer where an invoice payment's outcome leads."""
    if payment.status == "succeeded":
        messages.success(
            request, _("Payment received: the invoice is paid and your subscriptions are restored.")
        )
    elif payment.status == "requires_action" and payment.action_url:
        return redirect(payment.action_url)
    elif payment.status == "failed":
        messages.error(
            request, decline_text(payment.failure_code) + " " + _("The invoice is still unpaid.")
        )
    return redirect("portal:invoice", number=invoice.number)


def record_return(request, invoice) -> None:
    """On ?return=1, ask the gateway what became of the invoice's open payment (R10)."""
    payment = actions.open_invoice_payment(invoice)
    if payment is None or payment.status not in ("requires_action", "confirming"):
        return
    try:
        payment = return_from_gateway(payment.pk, source="customer_return", today=clock.today())
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return
    if payment.status == "succeeded":
        messages.success(
            request, _("Payment received: the invoice is paid and your subscriptions are restored.")
        )
    elif payment.status == "failed":
        messages.error(
            request, decline_text(payment.failure_code) + " " + _("The invoice is still unpaid.")
        )


urls = [path("billing/invoices/<str:number>/pay/", pay_invoice, name="pay_invoice")]

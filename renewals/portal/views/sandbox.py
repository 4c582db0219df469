"""The sandbox gateway's own pages (R9, R10): its payment page and its 3-D Secure challenge.

They stand in for Stripe Checkout and a card issuer: a new card is typed here, on the gateway's
page, never on the checkout form. Only R10's public test numbers are taken; any other number
is refused with a message and nothing is kept. Only the customer who placed the order sees
these pages (another user gets a 404). Answering sends the customer back to the checkout's
return URL, whose page asks the gateway what happened — exactly as a return from Stripe would.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.payments import actions
from renewals.payments.gateways.sandbox import TEST_CARDS, SandboxGateway, challenge_path
from renewals.payments.models import Payment, SandboxPayment
from renewals.portal.views.invoices import visible_invoices

# What the page tells a tester each published number does (product.md R10).
TEST_CARD_WORDS = {
    "4242424242424242": gettext_lazy("succeeds"),
    "4000000000000002": gettext_lazy("declined (card_declined)"),
    "4000000000009995": gettext_lazy("declined (insufficient_funds)"),
    "4000000000003220": gettext_lazy("asks for 3-D Secure, then succeeds"),
    "4000000000000119": gettext_lazy(
        "charged, but the answer is lost: the payment is confirmed a moment later"
    ),
}


def _scoped_payment(request, reference: str) -> Payment:
    if not actions.trusted_gateway("sandbox"):
        raise Http404("the sandbox is not the gateway")  # R10: no simulated money elsewhere
    # The order's placer, or (paying an invoice, R9) a user who may see the invoice.
    payment = (
        Payment.objects.select_related("order", "invoice__order")
        .filter(reference=reference, gateway="sandbox")
        .filter(
            Q(order__placed_by=request.user)
            | Q(invoice__in=visible_invoices(request.user).values("pk"))
        )
        .first()
    )
    if payment is None:
        raise Http404("no such payment")
    return payment


def _back(request, payment: Payment, sandbox: SandboxPayment | None):
    back = sandbox.return_url if sandbox else ""
    if not back or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = (
            f"/billing/invoices/{payment.invoice.number}/?return=1"
            if payment.invoice_id
            else f"/billing/orders/{payment.order.number}/?return=1"
        )
    return redirect(back)


def _grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@login_required
def pay(request, reference: str):
    """The sandbox payment page: take a test card (POST) or show the form (GET)."""
    payment = _scoped_payment(request, reference)
    sandbox = SandboxPayment.objects.filter(reference=reference).first()
    error, status = "", 200
    if request.method == "POST" and sandbox is not None and sandbox.status == "collecting":
        if request.POST.get("answer") == "cancel":
            SandboxGateway().cancel_collection(reference)
            return _back(request, payment, sandbox)
        try:
            row = SandboxGateway().collect_card(reference, request.POST.get("card_number", ""))
        except DomainError as exc:
            if exc.code != "card_number_not_accepted":
                raise
            error, status = (
                _(
                    "This card number is not accepted: the sandbox takes only its test card "
                    "numbers, listed below. Never enter a real card here."
                ),
                422,
            )
        else:
            if row.status == "requires_action":
                return redirect(challenge_path(reference))
            return _back(request, payment, sandbox)
    elif request.method == "POST":
        return _back(request, payment, sandbox)
    return render(
        request,
        "payments/sandbox_pay.html",
        {
            "payment": payment,
            "order": payment.paid_order,
            "collecting": sandbox is not None and sandbox.status == "collecting",
            "error": error,
            "test_cards": [(_grouped(n), TEST_CARD_WORDS[n]) for n in TEST_CARDS],
        },
        status=status,
    )


@login_required
def challenge(request, reference: str):
    """Show the challenge (GET) or record the customer's answer (POST) and go back."""
    payment = _scoped_payment(request, reference)
    sandbox = SandboxPayment.objects.filter(reference=reference).first()
    if request.method == "POST":
        passed = request.POST.get("answer") == "complete"
        if payment.status == "requires_action":
            SandboxGateway().complete_challenge(reference, passed=passed)
            actions.complete_action(reference, today=clock.today())
        return _back(request, payment, sandbox)
    return render(
        request,
        "payments/sandbox_3ds.html",
        {
            "payment": payment,
            "order": payment.paid_order,
            "last4": (sandbox.card_number[-4:] if sandbox else ""),
        },
    )


urls = [
    path("sandbox/pay/<str:reference>/", pay, name="sandbox_pay"),
    path("sandbox/3ds/<str:reference>/", challenge, name="sandbox_3ds"),
]

"""The sandbox gateway's 3-D Secure challenge page (R9, R10): what a card issuer would show.

Only the customer who placed the order sees it (another user gets a 404). Answering records the
result through payments.actions.complete_action, exactly as a return from a real issuer would,
then sends the customer back to the checkout's return URL.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme

from renewals.core import clock
from renewals.payments import actions
from renewals.payments.gateways.sandbox import SandboxGateway
from renewals.payments.models import Payment, SandboxPayment


def _scoped_payment(request, reference: str) -> Payment:
    if not actions.trusted_gateway("sandbox"):
        raise Http404("the sandbox is not the gateway")  # R10: no simulated money elsewhere
    payment = (
        Payment.objects.select_related("order")
        .filter(reference=reference, gateway="sandbox", order__placed_by=request.user)
        .first()
    )
    if payment is None:
        raise Http404("no such challenge")
    return payment


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
        back = sandbox.return_url if sandbox else ""
        if not back or not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = f"/billing/orders/{payment.order.number}/"
        return redirect(back)
    return render(
        request,
        "payments/sandbox_3ds.html",
        {
            "payment": payment,
            "order": payment.order,
            "last4": (sandbox.card_number[-4:] if sandbox else ""),
        },
    )


urls = [path("sandbox/3ds/<str:reference>/", challenge, name="sandbox_3ds")]

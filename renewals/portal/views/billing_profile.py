"""Portal: the billing profile — address and VAT id printed on invoices (R20)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from renewals.billing.profile import (
    billing_customers,
    editable_customer_ids,
    update_billing_profile,
)
from renewals.core.errors import DomainError
from renewals.portal.refusals import refusal_text


@login_required
def billing_profile(request):
    """Show each customer's billing details; let its purchaser change address and VAT id."""
    if request.method == "POST":
        try:
            customer_id = int(request.POST.get("customer", ""))
        except ValueError:
            customer_id = 0
        try:
            changed = update_billing_profile(
                customer_id,
                user=request.user,
                address=request.POST.get("address", ""),
                vat_id=request.POST.get("vat_id", ""),
            )
        except DomainError as error:
            messages.error(request, refusal_text(error))
            return redirect("portal:billing_profile")
        if "vat_id" in changed:
            messages.warning(
                request,
                _(
                    "Saved. The new VAT id waits for our validation: until then, invoices are "
                    "issued with VAT (no reverse charge)."
                ),
            )
        else:
            messages.success(request, _("Saved. New invoices will print these details."))
        return redirect("portal:billing_profile")
    editable = editable_customer_ids(request.user)
    return render(
        request,
        "portal/billing_profile.html",
        {
            "nav": "orders",
            "rows": [(c, c.pk in editable) for c in billing_customers(request.user)],
        },
    )


urls = [path("billing/profile/", billing_profile, name="billing_profile")]

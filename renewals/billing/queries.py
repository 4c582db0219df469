"""Reads of billing that every interface shares."""

from renewals.checkout.orders import orders_visible_to

from .models import Invoice


def invoices_visible_to(user):
    """Return the invoices `user` may see: those of the orders the user may see (one rule, R5)."""
    return Invoice.objects.filter(order__in=orders_visible_to(user))


def overdue_invoices_visible_to(user):
    """Return the user's unpaid invoices past their due date, oldest due first (R9)."""
    return (
        invoices_visible_to(user)
        .filter(status="unpaid", overdue_since__isnull=False)
        .order_by("due_date", "pk")
    )


def overdue_invoice_of(subscription_id: str) -> Invoice | None:
    """Return the overdue unpaid invoice holding this subscription in the expiry process, if any."""
    return (
        Invoice.objects.filter(
            status="unpaid",
            overdue_since__isnull=False,
            order__lines__subscription_id=subscription_id,
        )
        .order_by("due_date", "pk")
        .first()
    )

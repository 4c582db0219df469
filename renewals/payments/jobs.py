"""Payment work of the daily run (R16): expire payments whose deadline passed, mark invoices overdue."""

from datetime import date

from renewals.billing.actions import mark_overdue_invoices

from .actions import expire_overdue_payments


def run_payment_deadlines(today: date) -> dict[str, int]:
    """Expire overdue konbini / transfer / 3-D Secure payments and overdue invoices; return counts."""
    return {
        "payments_expired": expire_overdue_payments(today),
        "invoices_overdue": mark_overdue_invoices(today),
    }

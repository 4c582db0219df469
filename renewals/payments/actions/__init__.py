"""The writes of payments: one state machine for every method (R9, R10).

Split along its seams: `starting` (create and collect a payment), `reactions` (the gateway's
answers, webhooks, 3-D Secure returns, deadlines), `staff` (reconciliation) and `transitions`
(the one door of `Payment.status`, which moves the order). Calls to the gateway never run
inside a transaction these modules opened: claim (transaction) → call the gateway → record the
result (transaction).
"""

from .invoices import invoice_payment_methods, open_invoice_payment, pay_invoice
from .reactions import (
    complete_action,
    expire_overdue_payments,
    payment_expired,
    payment_failed,
    payment_succeeded,
    record_result,
    transfer_received,
    trusted_gateway,
)
from .staff import refund_payment, settle_payment
from .starting import METHODS, invoice_allowed, saved_card, start_payment

__all__ = [
    "METHODS",
    "complete_action",
    "expire_overdue_payments",
    "invoice_allowed",
    "invoice_payment_methods",
    "open_invoice_payment",
    "pay_invoice",
    "payment_expired",
    "payment_failed",
    "payment_succeeded",
    "record_result",
    "refund_payment",
    "saved_card",
    "settle_payment",
    "start_payment",
    "transfer_received",
    "trusted_gateway",
]

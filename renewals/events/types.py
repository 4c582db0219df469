"""The event types of R22: every fact that changes a vendor's access or money."""

SUBSCRIPTION_RENEWED = "subscription.renewed"
SUBSCRIPTION_STAGE_CHANGED = "subscription.stage_changed"
SUBSCRIPTION_AUTO_RENEW_CHANGED = "subscription.auto_renew_changed"
ORDER_PAID = "order.paid"
ORDER_FAILED = "order.failed"
ORDER_INVOICED = "order.invoiced"
PAYMENT_PENDING = "payment.pending"
PAYMENT_EXPIRED = "payment.expired"
INVOICE_PAID = "invoice.paid"
INVOICE_OVERDUE = "invoice.overdue"
CREDIT_NOTE_ISSUED = "credit_note.issued"

EVENT_TYPES = (
    SUBSCRIPTION_RENEWED,
    SUBSCRIPTION_STAGE_CHANGED,
    SUBSCRIPTION_AUTO_RENEW_CHANGED,
    ORDER_PAID,
    ORDER_FAILED,
    ORDER_INVOICED,
    PAYMENT_PENDING,
    PAYMENT_EXPIRED,
    INVOICE_PAID,
    INVOICE_OVERDUE,
    CREDIT_NOTE_ISSUED,
)


def object_kind(event_type: str) -> str:
    """Return the kind of object an event type carries: `subscription.renewed` → subscription.

    Payment events carry the order (which holds its payment), as the API shows payments.
    """
    kind = event_type.split(".", 1)[0]
    return "order" if kind == "payment" else kind

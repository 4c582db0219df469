"""How the portal answers a domain refusal: the catalogue's words and the page's status.

The words are the one catalogue's (`renewals.core.error_messages`, its portal wording where it
has one); a page shown again with a refusal answers this status (422 unless listed).
"""

from renewals.core.error_messages import error_text

STATUS = {
    "idempotency_key_required": 400,
    "not_found": 404,
    "card_in_use": 409,
    "duplicate_request": 409,
    "invoice_paid": 409,
    "not_eligible": 409,
    "payment_pending": 409,
    "price_changed": 409,
    "gateway_unavailable": 503,
}


def refusal_text(error) -> str:
    """Return the refusal in the customer's words, in the active language."""
    return error_text(error, portal=True)


def refusal_status(error) -> int:
    """Return the status of a page shown again with this refusal."""
    return STATUS.get(error.code, 422)

"""The one error shape of the API: {"error": {"code", "message", "details"}} (interfaces.md §2)."""

from django.http import JsonResponse

from renewals.core.error_messages import error_text


def _by_status(table: dict[int, tuple[str, ...]]) -> dict[str, int]:
    return {code: status for status, codes in table.items() for code in codes}


# The API's status for each domain refusal code (interfaces.md §2: 400/404/409/422 as fitting).
# Every code the domain raises is listed: a test fails on one that is missing.
STATUS = _by_status(
    {
        400: ("idempotency_key_required",),
        404: ("not_found",),
        409: (
            "card_in_use",
            "duplicate_request",
            "invoice_paid",
            "not_eligible",
            "payment_pending",
            "price_changed",
        ),
        422: (
            "add_card_in_checkout",
            "auto_renew_refused",
            "card_already_saved",
            "card_expired",
            "card_expiry_invalid",
            "card_not_found",
            "card_number_invalid",
            "card_number_not_accepted",
            "empty_order",
            "idempotency_mismatch",
            "invalid",
            "invalid_address",
            "invalid_payment_method",
            "invalid_purchase_order",
            "invalid_term",
            "invalid_vat_id",
            "method_not_allowed",
            "mixed_order",
            "not_refundable",
            "not_resolvable",
            "not_settleable",
            "not_staff",
            "note_required",
            "nothing_chosen",
            "renewal_refused",
            "same_card",
            "too_many",
            # R21: a change of the next term refused, by its first reason.
            "cancelled",
            "change_too_late",
            "not_purchaser",
            "partner_managed",
            "seats_above_limit",
            "seats_below_one",
            "term_not_sold",
            "trial",
        ),
        503: ("gateway_unavailable",),
    }
)


def domain_error_response(error):
    """Answer a domain refusal: its code, the catalogue's words and the API's status for it."""
    details = error.details if isinstance(error.details, list) else [error.details]
    return error_response(STATUS.get(error.code, 422), error.code, error_text(error), details)


class ApiError(Exception):
    """An error answered as JSON with a status, a stable code and a message in words."""

    def __init__(self, status: int, code: str, message: str, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details=None, headers=None):
    """Return the JSON error response."""
    response = JsonResponse(
        {"error": {"code": code, "message": message, "details": list(details or [])}},
        status=status,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def validation_details(errors) -> list[dict]:
    """Turn pydantic/ninja errors into [{"field", "message"}] a person can read."""
    details = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "payload")]
        details.append({"field": ".".join(loc), "message": str(err.get("msg", "invalid"))})
    return details

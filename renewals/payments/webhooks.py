"""Inbound gateway webhooks (R10): verify, store once by event id, then apply.

`/webhooks/sandbox` and `/webhooks/stripe` are thin: `receive_webhook` does the work, so the
`renewals sandbox` command processes an event exactly as an HTTP delivery would be. Storing the
event and applying it share one transaction: if applying fails, nothing is stored and the
gateway's retry is processed normally; a duplicate delivery is acknowledged and ignored.
"""

import logging

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import actions, funds
from .gateways import get_gateway
from .gateways.base import WebhookNotice, WebhookSignatureError
from .matching import UNMATCHED_TYPES, match_notice
from .models import Payment, WebhookEvent

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # gateways' events are a few KB; anything larger is not one


def receive_webhook(gateway_name: str, body: bytes, headers) -> tuple[int, dict]:
    """Verify and process one webhook delivery; return (HTTP status, JSON answer)."""
    if len(body) > MAX_BODY_BYTES:
        return 413, {"error": {"code": "too_large", "message": "The event body is too large."}}
    try:
        notice = get_gateway(gateway_name).parse_webhook(body, headers)
    except WebhookSignatureError as exc:
        log.warning("rejected %s webhook: %s", gateway_name, exc)
        return 400, {"error": {"code": "invalid_signature", "message": str(exc)}}
    # R10: an event for a payment whose first answer was lost is matched by its metadata.
    notice = match_notice(notice, gateway_name=gateway_name)
    if (
        notice.type not in UNMATCHED_TYPES
        and not Payment.objects.filter(reference=notice.payment_reference).exists()
    ):
        # Not stored: an event can overtake the gateway's answer to our own call (the payment
        # does not carry its reference yet); the gateway's retry finds it.
        return 404, {
            "error": {"code": "unknown_payment", "message": "No payment has this reference yet."}
        }
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    gateway=gateway_name,
                    event_id=notice.event_id,
                    type=notice.type,
                    payload=notice.payload,
                )
        except IntegrityError:
            return 200, {"received": True, "duplicate": True}
        outcome = apply_notice(notice, source=f"webhook:{gateway_name}")
        event.processed = timezone.now()
        event.save(update_fields=["processed"])
    return 200, {"received": True, "duplicate": False, "outcome": outcome}


def apply_notice(notice: WebhookNotice, *, source: str) -> str:
    """Apply a verified event to its payment; return what happened, for the answer and logs."""
    if notice.type == "ignored":
        return "ignored"
    if notice.type == "customer.funds_received":
        return funds.funds_received(notice, source=source)
    reference = notice.payment_reference
    if notice.type == "payment.succeeded":
        changed = actions.payment_succeeded(reference, amount=notice.amount, source=source)
    elif notice.type == "transfer.received":
        if notice.amount is None:
            return "missing_amount"
        changed = actions.transfer_received(reference, amount=notice.amount, source=source)
    elif notice.type == "payment.partially_funded":
        if notice.amount is None:
            return "missing_amount"
        changed = actions.transfer_received(
            reference, amount=notice.amount, source=source, cumulative=True
        )
    elif notice.type == "payment.failed":
        changed = actions.payment_failed(
            reference, failure_code=notice.failure_code or "failed", source=source
        )
    elif notice.type == "payment.expired":
        changed = actions.payment_expired(reference, source=source)
    else:  # payment.requires_action: already recorded when the payment started
        changed = False
    return "applied" if changed else "no_change"


def _respond(gateway_name: str, request) -> JsonResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES:
        return JsonResponse(
            {"error": {"code": "too_large", "message": "The event body is too large."}}, status=413
        )
    status, answer = receive_webhook(gateway_name, request.body, request.headers)
    return JsonResponse(answer, status=status)


@csrf_exempt
@require_POST
def sandbox_webhook(request):
    """Receive a signed sandbox event (interfaces.md §2)."""
    return _respond("sandbox", request)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Receive a Stripe event, verified with STRIPE_WEBHOOK_SECRET."""
    return _respond("stripe", request)

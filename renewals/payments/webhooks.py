"""Inbound gateway webhooks (R10, R19): verify, validate, store once by event id, then apply.

`/webhooks/sandbox` and `/webhooks/stripe` are thin: `receive_webhook` does the work, so the
`renewals sandbox` command processes an event exactly as an HTTP delivery would be. Storing the
event and applying it share one transaction: if applying fails, nothing is stored and the
gateway's retry is processed normally; a duplicate delivery is acknowledged and ignored.

The hot path (#15, docs/performance.md): the dedupe insert comes first (`INSERT … ON CONFLICT
DO NOTHING RETURNING`, so a duplicate costs one statement after the signature check), one
lookup of the payment, the audit rows of the event in one INSERT, its R22 events written
together (renewals.events.outbox.batched), one commit per event.

Money integrity (R10, R19):
- the sandbox endpoint answers only while `PAYMENT_GATEWAY=sandbox` (404 otherwise, checked on
  every request, and the URL is not even routed when the process starts with another gateway);
- an event is applied only to a payment of the gateway whose endpoint received it, so a payment
  of a Stripe deployment can never be paid by a sandbox event, whatever its reference looks like;
- an event whose id or reference does not fit (over 100 characters, a NUL character), or whose
  amount is negative, zero (for money events), not a number, or finer than its currency allows,
  is refused with 400 and recorded nowhere;
- money is recorded through the renewal door with the business day it arrives on: what R3/R19
  forbid renews nothing, is kept on the order for staff to refund, and the answer is still 200;
- money in another currency than the payment's settles nothing: it is recorded (customer funds,
  flagged, and the payment's audit trail), the payment flagged for staff, and the answer is 200
  so the gateway stops sending it.
"""

import json
import logging
from datetime import date

from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from renewals.core import audit, clock, logs
from renewals.events import outbox as events

from . import actions, funds
from .gateways import get_gateway
from .gateways.base import WebhookNotice, WebhookSignatureError
from .matching import UNMATCHED_TYPES, match_notice
from .models import WebhookEvent

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # gateways' events are a few KB; anything larger is not one
MAX_ID_LENGTH = 100  # WebhookEvent.event_id and Payment.reference
MONEY_EVENTS = ("payment.succeeded", "transfer.received", "payment.partially_funded")


def sandbox_enabled() -> bool:
    """Tell whether the sandbox gateway is the configured one (its webhooks exist only then)."""
    return actions.trusted_gateway("sandbox")


def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"error": {"code": code, "message": message}}


def invalid_reason(notice: WebhookNotice) -> str | None:
    """Return why a verified event cannot be taken as one (answered 400), or None when it can."""
    for what, value in (
        ("event id", notice.event_id),
        ("payment reference", notice.payment_reference),
        ("balance transaction id", notice.funds_id),
    ):
        if not isinstance(value, str):
            return f"the {what} is not a string"
        if len(value) > MAX_ID_LENGTH:
            return f"the {what} is longer than {MAX_ID_LENGTH} characters"
        if "\x00" in value:
            return f"the {what} contains a NUL character"
    if not notice.event_id:
        return "the event has no id"
    if notice.type not in UNMATCHED_TYPES and not notice.payment_reference:
        return "the event names no payment reference"
    if notice.amount is not None and notice.amount.amount < 0:
        return "the amount is negative"
    if notice.amount is not None and notice.amount.amount == 0 and notice.type in MONEY_EVENTS:
        return "the amount is zero"
    if "\\u0000" in json.dumps(notice.payload, default=str) or "\x00" in notice.failure_code:
        return "the event contains a NUL character"
    return None


def receive_webhook(gateway_name: str, body: bytes, headers, *, today: date) -> tuple[int, dict]:
    """Verify and process one webhook delivery; return (HTTP status, JSON answer).

    `today` is the business day the money is recorded on (the renewal door decides with it).
    """
    if gateway_name == "sandbox" and not sandbox_enabled():
        return _error(404, "not_found", "The sandbox gateway is not enabled on this site.")
    if len(body) > MAX_BODY_BYTES:
        return _error(413, "too_large", "The event body is too large.")
    try:
        notice = get_gateway(gateway_name).parse_webhook(body, headers)
    except WebhookSignatureError as exc:
        log.warning("rejected %s webhook: %s", gateway_name, exc)
        return _error(400, "invalid_signature", str(exc))
    except (ValueError, TypeError, ArithmeticError, AttributeError) as exc:
        # Signed but not an event we can read (e.g. a non-numeric amount): never a 500.
        log.warning("rejected malformed %s webhook: %s", gateway_name, exc)
        return _error(400, "invalid_event", "The event is malformed.")
    why = invalid_reason(notice)
    if why:
        log.warning("rejected %s webhook: %s", gateway_name, why)
        return _error(400, "invalid_event", f"The event is refused: {why}.")
    # Every line about this event names its payment and, once matched, its order (#20).
    with (
        logs.bind(payment=notice.payment_reference, order=notice.metadata.get("order")),
        transaction.atomic(),
        audit.batched(),
        events.batched(),
    ):
        # The dedupe insert first (#15): a re-sent event costs this one statement. Stored
        # already processed: applying it is the same transaction, so a failure stores nothing.
        if not store_once(gateway_name, notice):
            log.info(
                "duplicate %s webhook %s (%s) ignored", gateway_name, notice.event_id, notice.type
            )
            return 200, {"received": True, "duplicate": True}
        # R10: an event for a payment whose first answer was lost is matched by its metadata.
        notice, order = match_notice(notice, gateway_name=gateway_name)
        if notice.type not in UNMATCHED_TYPES and order is None:
            # Not stored (rolled back): an event can overtake the gateway's answer to our own
            # call (the payment does not carry its reference yet); the gateway's retry finds
            # it. A payment of another gateway is never found here.
            transaction.set_rollback(True)
            log.warning(
                "%s webhook %s (%s) names no payment yet: answered 404, the gateway retries",
                gateway_name,
                notice.event_id,
                notice.type,
            )
            return _error(404, "unknown_payment", "No payment has this reference yet.")
        with logs.bind(payment=notice.payment_reference, order=order):
            outcome = apply_notice(
                notice, source=f"webhook:{gateway_name}", gateway=gateway_name, today=today
            )
            if outcome == funds.RETRY_LATER:
                # Money moved off a balance before its arrival was reported: not stored, the
                # gateway's retry finds the arrival recorded (renewals/payments/funds.py).
                transaction.set_rollback(True)
                log.warning(
                    "%s webhook %s (%s) settles no recorded funds yet: answered 404",
                    gateway_name, notice.event_id, notice.type,
                )  # fmt: skip
                return _error(404, "unknown_funds", "No recorded funds match this movement yet.")
            log.info("%s webhook %s (%s): %s", gateway_name, notice.event_id, notice.type, outcome)
    return 200, {"received": True, "duplicate": False, "outcome": outcome}


INSERT_EVENT = (
    "INSERT INTO {table} (gateway, event_id, type, payload, received, processed)"
    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (gateway, event_id) DO NOTHING RETURNING id"
)


def store_once(gateway_name: str, notice: WebhookNotice) -> bool:
    """Insert the event unless its (gateway, id) is stored; return whether it was new.

    One statement on PostgreSQL and SQLite (>= 3.35) alike, no savepoint: `INSERT … ON
    CONFLICT DO NOTHING RETURNING id` returns no row for a duplicate.
    """
    now = clock.now()
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    payload = WebhookEvent._meta.get_field("payload").get_db_prep_value(notice.payload, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_EVENT.format(table=table),
            [gateway_name, notice.event_id, notice.type, payload, now, now],
        )
        return cursor.fetchone() is not None


def apply_notice(notice: WebhookNotice, *, source: str, gateway: str, today: date) -> str:
    """Apply a verified event to its payment of `gateway`; return what happened."""
    if notice.type == "ignored":
        return "ignored"
    if notice.type == "customer.funds_received":
        return funds.funds_received(notice, source=source, today=today)
    if notice.type == "customer.funds_applied":
        return funds.funds_applied(notice, source=source, today=today)
    reference = notice.payment_reference
    common = {"source": source, "gateway": gateway}
    received = {"amount": notice.amount, "today": today, "event_id": notice.event_id, **common}
    if notice.type == "payment.succeeded":
        changed = actions.payment_succeeded(reference, **received)
    elif notice.type == "transfer.received":
        if notice.amount is None:
            return "missing_amount"
        changed = actions.transfer_received(reference, **received)
    elif notice.type == "payment.partially_funded":
        if notice.amount is None:
            return "missing_amount"
        changed = actions.transfer_received(reference, cumulative=True, **received)
    elif notice.type == "payment.failed":
        changed = actions.payment_failed(
            reference, failure_code=(notice.failure_code or "failed")[:40], **common
        )
    elif notice.type == "payment.expired":
        changed = actions.payment_expired(reference, **common)
    else:  # payment.requires_action: already recorded when the payment started
        changed = False
    return "applied" if changed else "no_change"


def _respond(gateway_name: str, request) -> JsonResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY_BYTES:
        return JsonResponse(
            {"error": {"code": "too_large", "message": "The event body is too large."}}, status=413
        )
    status, answer = receive_webhook(
        gateway_name, request.body, request.headers, today=clock.today()
    )
    return JsonResponse(answer, status=status)


@require_POST
def _sandbox_webhook(request):
    return _respond("sandbox", request)


@csrf_exempt
def sandbox_webhook(request):
    """Receive a signed sandbox event (interfaces.md §2); 404 unless the sandbox is the gateway.

    Checked on each request, before anything else (even the method), so a site whose gateway is
    not the sandbox shows no sign of the endpoint.
    """
    if not sandbox_enabled():
        return JsonResponse({"error": {"code": "not_found", "message": "Not found."}}, status=404)
    return _sandbox_webhook(request)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Receive a Stripe event, verified with STRIPE_WEBHOOK_SECRET."""
    return _respond("stripe", request)

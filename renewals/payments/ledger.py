"""The gateway-call ledger (R10): one row per call to a payment gateway, written as it went.

`call_gateway` wraps every call the payments code makes: it times it, turns an exception nobody
expected into an `unknown` outcome (a lost answer is never proof that nothing was charged),
and writes one `GatewayCall` with the response redacted — no API key, client secret, card
number, CVC or bank account number is ever stored. Staff read the rows beside the payment in
the back office.
"""

import logging
import re
import time

from django.db import transaction

from .gateways.base import GatewayResult, GatewayUnavailable, unknown
from .models import GatewayCall

log = logging.getLogger(__name__)

SECRET_KEYS = {
    "client_secret",
    "secret",
    "api_key",
    "card_number",
    "number",
    "cvc",
    "cvv",
    "account_number",
    "iban",
    "password",
}
# A run of 12–19 digits, with or without spaces or dashes, looks like a card number: masked.
PAN = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
SECRET_VALUE = re.compile(r"\b(sk|rk|whsec)_(live|test)?_?[A-Za-z0-9]+")


def redact(value, *, depth: int = 0):
    """Return `value` with secrets and card data replaced (for the ledger and audit trails)."""
    if depth > 12:
        return "…"
    if isinstance(value, dict):
        return {
            str(k): ("[redacted]" if str(k).lower() in SECRET_KEYS else redact(v, depth=depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v, depth=depth + 1) for v in value[:50]]
    if isinstance(value, str):
        return SECRET_VALUE.sub("[redacted]", PAN.sub("[card number]", value))[:2000]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value), depth=depth + 1)


def call_gateway(
    gateway_name: str,
    kind: str,
    fn,
    *,
    idempotency_key: str = "",
    payment=None,
    customer=None,
):
    """Run one gateway call and write its ledger row; return what `fn` returned.

    For calls answering a GatewayResult, any exception becomes an `unknown` result (logged);
    `find_payment`'s None becomes a `not_found` row. For other calls (customer records) the
    exception is recorded, then raised as GatewayUnavailable.
    """
    started = time.monotonic()
    error, answer = "", None
    try:
        answer = fn()
    except Exception as exc:  # unknown, not failed: the gateway may have acted (R10)
        log.exception("gateway %s %s: answer lost", gateway_name, kind)
        error = f"{type(exc).__name__}: {exc}"[:300]
        answer = unknown("exception") if kind.endswith("_payment") else None
    elapsed = int((time.monotonic() - started) * 1000)
    _write(gateway_name, kind, answer, error, elapsed, idempotency_key, payment, customer)
    if error and answer is None:
        raise GatewayUnavailable(error)
    return answer


def _write(gateway_name, kind, answer, error, elapsed, key, payment, customer) -> None:
    if isinstance(answer, GatewayResult):
        outcome, reference = answer.outcome, answer.reference
        response = {
            "outcome": answer.outcome,
            "reference": answer.reference,
            "failure_code": answer.failure_code,
            "error": answer.error,
            "action_url": answer.action_url,
            "instructions": answer.instructions,
            "saved_card": (
                {"brand": answer.saved_card.brand, "last4": answer.saved_card.last4}
                if answer.saved_card
                else None
            ),
            "raw": answer.raw,
        }
        error = error or answer.error
    elif answer is None and not error:
        outcome, reference, response = "not_found", "", {}
    elif isinstance(answer, str):
        outcome, reference, response = "succeeded", answer, {"id": answer}
    else:
        outcome, reference, response = "unknown", "", {}
    try:
        with transaction.atomic():
            GatewayCall.objects.create(
                payment=payment,
                customer=customer,
                gateway=gateway_name,
                kind=kind,
                idempotency_key=key[:200],
                outcome=outcome if outcome in GATEWAY_OUTCOMES else "unknown",
                reference=(reference or "")[:100],
                error=redact(error)[:300],
                response=redact(response),
                duration_ms=elapsed,
            )
    except Exception:  # the ledger must never turn a charge into an error
        log.exception("could not write the gateway-call ledger row")


GATEWAY_OUTCOMES = {o for o, _label in GatewayCall._meta.get_field("outcome").choices}

"""The sandbox gateway (R10): simulates cards, 3-D Secure, konbini and bank transfers locally.

It keeps its own state in `SandboxPayment` (what a real provider would hold), so a repeated
idempotency key returns the first result, and it delivers asynchronous results as webhooks signed
like Stripe's: `Renewals-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.

It mirrors Stripe's flow: a new card is typed on the sandbox's own payment page
(`/sandbox/pay/<reference>/`, the stand-in for Stripe Checkout), never sent to checkout. It
accepts only R10's public test numbers, anywhere; 4000 0000 0000 0119 charges the card and then
loses the next two answers about it (time-outs), so the payment is `unknown` until looked up.
"""

import hashlib
import hmac
import json
import secrets
import time
import uuid
from datetime import UTC
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, models, transaction

from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.money import exact_money

from ..models import SandboxPayment
from .base import (
    GatewayResult,
    PaymentRequest,
    SavedCard,
    WebhookNotice,
    WebhookSignatureError,
    unknown,
)

# R10's well-known test numbers; any other number is declined as invalid.
TEST_CARDS = {
    "4242424242424242": ("succeeded", ""),
    "4000000000000002": ("failed", "card_declined"),
    "4000000000009995": ("failed", "insufficient_funds"),
    "4000000000003220": ("requires_action", ""),
    "4000000000000119": ("succeeded", ""),  # charged, then the answers are lost (R10)
}
ANSWER_LOST_CARD = "4000000000000119"
ANSWERS_LOST = 2  # the charge's answer and the first lookup's: the next lookup finds it
TOKEN_PREFIX = "pm_sandbox_"
SIGNATURE_HEADER = "Renewals-Signature"
TOLERANCE_SECONDS = 300
EVENT_TYPES = ("payment.succeeded", "payment.failed", "payment.expired", "transfer.received")

SANDBOX_BANK = {
    "bank_name": "Sandbox Bank",
    "bank_code": "0999",
    "branch_name": "Renewals Branch",
    "branch_code": "101",
    "account_type": "futsu",
    "account_holder": "RENEWALS DEMO VENDOR",
}


def card_number_of(token: str | None) -> str:
    """Return the digits of a card number or of a saved sandbox token `pm_sandbox_<number>`."""
    value = (token or "").strip()
    if value.startswith(TOKEN_PREFIX):
        value = value[len(TOKEN_PREFIX) :]
    return "".join(ch for ch in value if ch not in " -")


def challenge_path(reference: str) -> str:
    return f"/sandbox/3ds/{reference}/"


def payment_page_path(reference: str) -> str:
    return f"/sandbox/pay/{reference}/"


def test_card_or_refuse(number: str) -> str:
    """Return the digits of one of R10's test numbers; refuse any other number (422)."""
    digits = card_number_of(number)
    if digits not in TEST_CARDS:
        raise DomainError("card_number_not_accepted", variant="sandbox")
    return digits


def customer_account(customer_id: str) -> dict:
    """The sandbox's bank-transfer virtual account of one customer: the same for every order."""
    digest = hashlib.sha256(customer_id.encode()).hexdigest()
    return {**SANDBOX_BANK, "account_number": f"{int(digest[:12], 16) % 10**7:07d}"}


def sign(body: bytes, *, secret: str, timestamp: int | None = None) -> str:
    """Return the Renewals-Signature header value for a webhook body."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def verify_signature(body: bytes, header: str, *, secret: str, now: float | None = None) -> None:
    """Check a Renewals-Signature header; raise WebhookSignatureError if unsigned, stale or wrong."""
    if not header:
        raise WebhookSignatureError("missing Renewals-Signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        ts = int(parts["t"][0])
    except (KeyError, ValueError):
        raise WebhookSignatureError("signature has no valid timestamp") from None
    now = time.time() if now is None else now
    if abs(now - ts) > TOLERANCE_SECONDS:
        raise WebhookSignatureError("signature timestamp outside the 300 s tolerance")
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise WebhookSignatureError("signature does not match the body")


def event_body(event_type: str, reference: str, amount=None, currency: str = "") -> bytes:
    """Build the JSON body of a sandbox webhook event (interfaces.md §2).

    `currency` (optional, like Stripe's) names the amount's currency; without it the amount is
    in the payment's own currency.
    """
    data = {"payment_reference": reference, "amount": None if amount is None else str(amount)}
    if currency:
        data["currency"] = currency
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "created": clock.now().astimezone(UTC).isoformat(timespec="seconds"),
        "data": data,
    }
    return json.dumps(event).encode()


class SandboxGateway:
    name = "sandbox"
    customer_prefix = "sbxcus_"  # ids of this gateway's customers start so
    find_may_lag = False  # the sandbox's lookup sees every payment at once

    def __init__(self, secret: str | None = None):
        self.secret = secret or settings.SANDBOX_WEBHOOK_SECRET

    # -- outgoing calls ------------------------------------------------------------------
    def ensure_customer(self, *, csn: str, name: str, email: str, existing: str = "") -> str:
        """Return the CSN's sandbox customer id (one per CSN, like a Stripe Customer)."""
        return existing if existing.startswith("sbxcus_") else f"sbxcus_{csn}"

    def create_payment(self, request: PaymentRequest) -> GatewayResult:
        """Start a payment; the same idempotency key returns the first result (R10)."""
        existing = SandboxPayment.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing:
            return self._answer(existing)
        row = SandboxPayment(
            idempotency_key=request.idempotency_key,
            reference=f"sbx_{secrets.token_hex(10)}",
            method=request.method,
            amount=request.amount.amount,
            currency=request.amount.currency.code,
            save_card=request.save_card,
            return_url=request.return_url,
            customer_id=request.gateway_customer_id,
        )
        if request.method == "card" and not request.card_token:
            row.status = "collecting"  # the customer types the card on the sandbox's page
        elif request.method == "card":
            self._card(row, card_number_of(request.card_token), off_session=request.off_session)
        elif request.method in ("konbini", "bank_transfer"):
            row.status = "pending"
            row.instructions = self._instructions(row, request)
        else:
            row.status, row.failure_code = "failed", "method_not_supported"
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # a concurrent request with the same key won: answer as it did
            row = SandboxPayment.objects.get(idempotency_key=request.idempotency_key)
        return self._answer(row)

    def retrieve_payment(self, reference: str) -> GatewayResult:
        """Return the current state of a sandbox payment."""
        return self._answer(SandboxPayment.objects.get(reference=reference))

    def find_payment(self, idempotency_key: str) -> GatewayResult | None:
        """Return the payment started with this idempotency key, or None (for the reconciler)."""
        row = SandboxPayment.objects.filter(idempotency_key=idempotency_key).first()
        return self._answer(row) if row else None

    def _answer(self, row: SandboxPayment) -> GatewayResult:
        """The answer to a call about `row`, or a lost one while 0119 still loses answers."""
        lost = SandboxPayment.objects.filter(pk=row.pk, answers_to_lose__gt=0).update(
            answers_to_lose=models.F("answers_to_lose") - 1
        )
        if lost:
            return unknown("timeout", raw={"sandbox": "answer lost (test card 0119)"})
        return self._result(row)

    def _card(self, row: SandboxPayment, number: str, *, off_session: bool) -> None:
        # A card number reaches the sandbox only if it is one of R10's public test numbers:
        # checkout and the payment page refuse any other (card_number_not_accepted).
        if number not in TEST_CARDS:
            row.card_number, row.status, row.failure_code = "", "failed", "invalid_number"
            return
        row.card_number = number
        status, code = TEST_CARDS[number]
        if status == "requires_action" and off_session:
            # No customer is present to pass a challenge during an automatic charge (R12).
            status, code = "failed", "authentication_required"
        row.status, row.failure_code = status, code
        if number == ANSWER_LOST_CARD:
            row.answers_to_lose = ANSWERS_LOST

    def _instructions(self, row: SandboxPayment, request: PaymentRequest) -> dict:
        expires_at = request.expires_on.isoformat() if request.expires_on else None
        if request.method == "konbini":
            return {
                "konbini": {
                    "payment_code": f"{secrets.randbelow(10**11):011d}",
                    "confirmation_number": f"{secrets.randbelow(10**6):06d}",
                    "expires_at": expires_at,
                    "amount": str(int(request.amount.amount)),
                }
            }
        account = (
            customer_account(request.gateway_customer_id)
            if request.gateway_customer_id
            else {**SANDBOX_BANK, "account_number": f"{secrets.randbelow(10**7):07d}"}
        )
        return {
            "bank_transfer": {
                **account,
                "reference": f"RN{secrets.randbelow(10**8):08d}",
                "expires_at": expires_at,
                "amount": str(int(request.amount.amount)),
            }
        }

    def _result(self, row: SandboxPayment) -> GatewayResult:
        saved = None
        if row.method == "card" and row.save_card and row.status == "succeeded":
            saved = SavedCard(
                token=f"{TOKEN_PREFIX}{row.card_number}",
                brand="visa",
                last4=row.card_number[-4:],
                exp_month=12,
                exp_year=2030,
            )
        outcome = {"expired": "pending", "collecting": "requires_action"}.get(
            row.status, row.status
        )
        url = ""
        if row.status == "collecting":
            url = payment_page_path(row.reference)
        elif row.status == "requires_action":
            url = challenge_path(row.reference)
        return GatewayResult(
            outcome=outcome,
            reference=row.reference,
            failure_code=row.failure_code,
            action_url=url,
            instructions=row.instructions,
            saved_card=saved,
            raw={"sandbox_status": row.status, "method": row.method},
        )

    # -- the simulated customer ------------------------------------------------------------
    def collect_card(self, reference: str, number: str) -> SandboxPayment:
        """Take a test card typed on the sandbox payment page (only once); refuse other numbers."""
        digits = test_card_or_refuse(number)
        with transaction.atomic():
            row = SandboxPayment.objects.select_for_update().get(reference=reference)
            if row.status == "collecting":
                self._card(row, digits, off_session=False)
                row.save(update_fields=["card_number", "status", "failure_code", "answers_to_lose"])
        return row

    def cancel_collection(self, reference: str) -> None:
        """The customer left the payment page without paying: nothing is charged."""
        SandboxPayment.objects.filter(reference=reference, status="collecting").update(
            status="failed", failure_code="canceled"
        )

    def complete_challenge(self, reference: str, *, passed: bool) -> SandboxPayment:
        """Record the customer's answer to a 3-D Secure challenge (only once)."""
        with transaction.atomic():
            row = SandboxPayment.objects.select_for_update().get(reference=reference)
            if row.status == "requires_action":
                row.status, row.failure_code = (
                    ("succeeded", "") if passed else ("failed", "authentication_failed")
                )
                row.save(update_fields=["status", "failure_code"])
        return row

    def customer_pays(self, reference: str, amount: Decimal | None = None) -> tuple[str, bytes]:
        """Simulate money arriving at the konbini or bank; return (event type, event body)."""
        row = SandboxPayment.objects.get(reference=reference)
        if row.method == "bank_transfer":
            paid = row.amount if amount is None else amount
            return "transfer.received", event_body("transfer.received", reference, paid)
        paid = row.amount if amount is None else amount
        SandboxPayment.objects.filter(pk=row.pk, status="pending").update(status="succeeded")
        return "payment.succeeded", event_body("payment.succeeded", reference, paid)

    def deadline_passes(self, reference: str) -> tuple[str, bytes]:
        """Simulate the voucher or transfer deadline passing; return (event type, event body)."""
        row = SandboxPayment.objects.get(reference=reference)
        SandboxPayment.objects.filter(pk=row.pk, status="pending").update(status="expired")
        return "payment.expired", event_body("payment.expired", reference)

    def signed_headers(self, body: bytes) -> dict:
        return {SIGNATURE_HEADER: sign(body, secret=self.secret)}

    # -- incoming webhooks -------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        """Verify a sandbox webhook and normalise it (interfaces.md §2)."""
        header = _header(headers, SIGNATURE_HEADER)
        verify_signature(body, header, secret=self.secret)
        try:
            event = json.loads(body)
            event_id = str(event["id"])
            event_type = event["type"]
            data = event.get("data") or {}
            reference = str(data["payment_reference"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookSignatureError(f"malformed event: {exc}") from None
        if event_type not in EVENT_TYPES:
            event_type = "ignored"
        amount = None
        if data.get("amount") not in (None, ""):
            row = SandboxPayment.objects.filter(reference=reference).only("currency").first()
            # The event's own currency when it names one (a payment in another currency than
            # the order's settles nothing: payments.actions flags it), else the payment's.
            currency = data.get("currency") or (row.currency if row else "JPY")
            try:
                if not isinstance(currency, str):
                    raise ValueError(currency)
                # Exact or refused: 12000.5 yen, -1 or "abc" is no payment (never rounded).
                amount = exact_money(data["amount"], currency.upper())
            except ValueError:
                raise WebhookSignatureError("malformed amount") from None
        return WebhookNotice(
            event_id=event_id,
            type=event_type,
            payment_reference=reference,
            amount=amount,
            created=str(event.get("created", "")),
            payload=event,
        )


def _header(headers, name: str) -> str:
    """Read a header from a Django HttpHeaders/dict regardless of case."""
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            return value
    return ""

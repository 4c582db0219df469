"""The Stripe gateway (R10): Checkout for new cards, PaymentIntents for saved cards, konbini
and JP bank transfers, one Stripe Customer per CSN.

Uses the official `stripe` SDK through a `StripeClient` (an `http_client` can be injected: the
tests answer with fixtures checked against the SDK's published shapes, no network). Every write
carries an idempotency key, so a repeated checkout never charges twice. Domain code only ever
sees the normalised results of `base.py`, never a Stripe object.

A new card is never seen by this server: the customer types it on Stripe Checkout's hosted page
(a Checkout Session made here, `cs_…`), and Stripe sends them back to `return_url`. A card saved
for off-session renewals is stored as `<customer id>:<pm id>`, because Stripe charges a saved
card only through the Customer it is attached to.

Errors are three-valued (R10): a card error is `failed`; a connection error, time-out, 5xx,
rate limit or idempotency conflict is `unknown` — Stripe may have charged — and the payment is
then looked up by its idempotency key (`find_payment`) or reference (`retrieve_payment`).
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings

from renewals.core.money import to_minor

from .base import (
    GatewayResult,
    GatewayUnavailable,
    PaymentRequest,
    WebhookNotice,
    WebhookSignatureError,
    unknown,
)
from .stripe_results import get, notice_from_event, result_from_intent, result_from_session

JST = ZoneInfo("Asia/Tokyo")
# The answer of these was lost or refused for a reason that says nothing of the charge.
LOST = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError, stripe.IdempotencyError)


def split_token(token: str) -> tuple[str | None, str]:
    """Split a saved card token `<customer>:<payment method>` (or a bare `pm_…`)."""
    customer, sep, method = (token or "").partition(":")
    return (customer, method) if sep else (None, customer)


def lost_reason(exc: Exception) -> str:
    """Name a lost answer for the ledger: timeout, connection_error, server_error, rate_limited."""
    if isinstance(exc, stripe.RateLimitError):
        return "rate_limited"
    if isinstance(exc, stripe.IdempotencyError):
        return "idempotency_conflict"
    if isinstance(exc, stripe.APIConnectionError):
        return "timeout" if "timed out" in str(exc).lower() else "connection_error"
    return "server_error"


class StripeGateway:
    name = "stripe"
    customer_prefix = "cus_"  # ids of this gateway's customers start so
    find_may_lag = True  # find_payment searches an index that trails Stripe's writes

    def __init__(self, *, api_key=None, webhook_secret=None, http_client=None):
        self.webhook_secret = webhook_secret or settings.STRIPE_WEBHOOK_SECRET
        base = getattr(settings, "STRIPE_API_BASE", "")
        self.client = stripe.StripeClient(
            api_key or settings.STRIPE_API_KEY or "sk_unset",
            http_client=http_client,
            # The SDK retries connection errors, 409s, 429s and 5xx with the same idempotency
            # key; what is still lost after that is `unknown`.
            max_network_retries=2,
            base_addresses={"api": base} if base else None,
        )

    # -- customers -----------------------------------------------------------------------------
    def ensure_customer(self, *, csn: str, name: str, email: str, existing: str = "") -> str:
        """Return the CSN's Stripe Customer, found by its `csn` metadata or created once."""
        if existing.startswith("cus_"):
            return existing
        try:
            found = self.client.v1.customers.search(
                params={"query": f"metadata['csn']:'{_quoted(csn)}'", "limit": 1}
            )
            rows = list(get(found, "data", default=[]) or [])
            if rows:
                return get(rows[0], "id")
            customer = self.client.v1.customers.create(
                params={"name": name[:250], "email": email, "metadata": {"csn": csn}},
                options={"idempotency_key": f"renewals-customer-{csn}"},
            )
        except stripe.StripeError as exc:
            raise GatewayUnavailable(f"{type(exc).__name__}: {exc}") from None
        return customer["id"]

    # -- payments ------------------------------------------------------------------------------
    def create_payment(self, request: PaymentRequest) -> GatewayResult:
        """Start a payment; idempotent by request.idempotency_key."""
        key = request.idempotency_key
        try:
            if request.method == "card" and not request.card_token:
                return result_from_session(self._checkout_session(request))
            intent = self.client.v1.payment_intents.create(
                params=self.intent_params(request), options={"idempotency_key": key}
            )
        except stripe.CardError as exc:
            body = exc.json_body or {}
            intent = get(body, "error", "payment_intent")
            if intent:
                return result_from_intent(intent)
            code = get(body, "error", "decline_code") or exc.code or "card_declined"
            return GatewayResult(outcome="failed", reference=f"declined_{key}", failure_code=code)
        except LOST as exc:
            return unknown(lost_reason(exc))
        except stripe.StripeError as exc:  # 400/401/403/404: Stripe refused, nothing was done
            return GatewayResult(
                outcome="failed",
                reference=f"refused_{key}",
                failure_code="gateway_refused",
                raw={"error": type(exc).__name__, "code": getattr(exc, "code", "") or ""},
            )
        result = result_from_intent(intent)
        if request.expires_on and result.instructions and "bank_transfer" in result.instructions:
            result.instructions["bank_transfer"]["expires_at"] = request.expires_on.isoformat()
        return result

    def intent_params(self, request: PaymentRequest) -> dict:
        """The PaymentIntent a saved card, konbini or bank transfer is collected with."""
        params = {
            "amount": to_minor(request.amount),
            "currency": request.amount.currency.code.lower(),
            "confirm": True,
            "description": f"Renewals order {request.reference_hint}",
            # find_payment searches by this key when a lost answer left the payment unknown.
            "metadata": _metadata(request),
        }
        if request.gateway_customer_id:
            params["customer"] = request.gateway_customer_id
        if request.method == "card":
            customer, method = split_token(request.card_token or "")
            params.update(allowed_payment_method_types=["card"], payment_method=method)
            if customer:
                params["customer"] = customer  # a card is charged through its own Customer
            if request.off_session:
                params["off_session"] = True
            else:
                params["return_url"] = absolute(request.return_url)
        elif request.method == "konbini":
            params.update(
                allowed_payment_method_types=["konbini"],
                payment_method_data={
                    "type": "konbini",
                    "billing_details": {"email": request.customer_email},
                },
            )
            if request.expires_on:
                # R9's deadline is a business day; the voucher lasts until its end in Japan.
                end = datetime.combine(request.expires_on, time(23, 59, 59), JST)
                params["payment_method_options"] = {"konbini": {"expires_at": int(end.timestamp())}}
        elif request.method == "bank_transfer":
            params.update(
                allowed_payment_method_types=["customer_balance"],
                payment_method_data={"type": "customer_balance"},
                payment_method_options={
                    "customer_balance": {
                        "funding_type": "bank_transfer",
                        "bank_transfer": {"type": "jp_bank_transfer"},
                    }
                },
            )
        return params

    def session_params(self, request: PaymentRequest) -> dict:
        """The Checkout Session (Stripe's hosted page) a new card is typed on."""
        intent_data = {
            "metadata": _metadata(request),
            "description": f"Renewals order {request.reference_hint}",
        }
        if request.save_card:
            intent_data["setup_future_usage"] = "off_session"
        params = {
            "mode": "payment",
            "allowed_payment_method_types": ["card"],
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.amount.currency.code.lower(),
                        "unit_amount": to_minor(request.amount),
                        "product_data": {"name": f"Renewals order {request.reference_hint}"},
                    },
                }
            ],
            "client_reference_id": request.reference_hint,
            "metadata": _metadata(request),
            "payment_intent_data": intent_data,
            "success_url": absolute(request.return_url),
            "cancel_url": absolute(request.cancel_url or request.return_url),
        }
        if request.gateway_customer_id:
            params["customer"] = request.gateway_customer_id
        else:
            params["customer_email"] = request.customer_email
        return params

    def _checkout_session(self, request: PaymentRequest):
        return self.client.v1.checkout.sessions.create(
            params=self.session_params(request),
            options={"idempotency_key": request.idempotency_key},
        )

    def retrieve_payment(self, reference: str) -> GatewayResult:
        """Ask Stripe for the current state of a Checkout Session or PaymentIntent."""
        try:
            if reference.startswith("cs_"):
                return result_from_session(
                    self.client.v1.checkout.sessions.retrieve(
                        reference, params={"expand": ["payment_intent.payment_method"]}
                    )
                )
            return result_from_intent(
                self.client.v1.payment_intents.retrieve(
                    reference, params={"expand": ["payment_method"]}
                )
            )
        except LOST as exc:
            return unknown(lost_reason(exc), reference=reference)

    def find_payment(self, idempotency_key: str) -> GatewayResult | None:
        """Return the PaymentIntent created with this idempotency key, or None (not found yet).

        Searches the `idempotency_key` metadata every PaymentIntent carries (a Checkout
        Session's too, through payment_intent_data). Stripe's search index trails its writes
        (normally by under a minute, up to an hour during outages), so None means "not found
        yet", not "never created": `find_may_lag` says so. A lost answer is `unknown`.
        """
        try:
            found = self.client.v1.payment_intents.search(
                params={
                    "query": f"metadata['idempotency_key']:'{_quoted(idempotency_key)}'",
                    "expand": ["data.payment_method"],  # for the saved card, as retrieve_payment
                }
            )
        except LOST as exc:
            return unknown(lost_reason(exc))
        intents = list(get(found, "data", default=[]) or [])
        if not intents:
            return None
        # One key makes one intent; should there be more, a charged one is what must be recorded.
        charged = [i for i in intents if get(i, "status") == "succeeded"]
        return result_from_intent((charged or intents)[0])

    def apply_customer_balance(
        self, reference: str, *, amount, idempotency_key: str
    ) -> GatewayResult:
        """Apply funds waiting on the customer's cash balance to a bank-transfer PaymentIntent."""
        try:
            intent = self.client.v1.payment_intents.apply_customer_balance(
                reference,
                params={"amount": to_minor(amount), "currency": amount.currency.code.lower()},
                options={"idempotency_key": idempotency_key},
            )
        except LOST as exc:
            return unknown(lost_reason(exc), reference=reference)
        except stripe.StripeError as exc:  # refused (e.g. the intent is paid already): not done
            return GatewayResult(
                outcome="failed",
                reference=reference,
                failure_code="gateway_refused",
                raw={"code": getattr(exc, "code", "") or ""},
            )
        return result_from_intent(intent)

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        """Verify a Stripe webhook with construct_event and normalise it."""
        signature = next(
            (v for k, v in dict(headers).items() if k.lower() == "stripe-signature"), ""
        )
        try:
            event = stripe.Webhook.construct_event(body, signature, self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookSignatureError(str(exc)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookSignatureError(f"malformed event: {exc}") from None
        return notice_from_event(event)


def absolute(url: str) -> str:
    """Stripe sends customers back to absolute URLs: a path is put under PORTAL_BASE_URL."""
    base = settings.PORTAL_BASE_URL.rstrip("/")
    if not url:
        return base + "/"
    return url if "://" in url else base + "/" + url.lstrip("/")


def _metadata(request: PaymentRequest) -> dict:
    # The webhook matches an event by these when the payment does not carry Stripe's id yet.
    return {"order": request.reference_hint, "idempotency_key": request.idempotency_key}


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")

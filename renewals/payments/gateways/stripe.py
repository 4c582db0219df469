"""The Stripe gateway (R10): PaymentIntents for cards, konbini and JP bank transfers.

Uses the official `stripe` SDK through a `StripeClient` (an `http_client` can be injected: the
tests replay recorded API responses, no network). Every write carries an idempotency key, so a
repeated checkout never charges twice. Domain code only ever sees the normalised results of
`base.py`, never a Stripe object.

Card tokens are Stripe PaymentMethod ids (`pm_…`, collected by Stripe.js, or test ids such as
`pm_card_visa`); a card saved for off-session renewals is stored as `<customer id>:<pm id>`,
because Stripe charges a saved card only through the Customer it is attached to.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import stripe
from django.conf import settings

from renewals.core.money import from_minor, to_minor

from .base import GatewayResult, PaymentRequest, SavedCard, WebhookNotice, WebhookSignatureError

JST = ZoneInfo("Asia/Tokyo")
KONBINI_STORES = ("familymart", "lawson", "ministop", "seicomart")


def _get(obj, *path, default=None):
    """Walk nested Stripe objects / dicts without KeyErrors."""
    for key in path:
        if obj is None:
            return default
        try:
            obj = obj[key]
        except (KeyError, TypeError, IndexError):
            return default
    return default if obj is None else obj


def split_token(token: str) -> tuple[str | None, str]:
    """Split a saved card token `<customer>:<payment method>` (or a bare `pm_…`)."""
    customer, sep, method = (token or "").partition(":")
    return (customer, method) if sep else (None, customer)


def result_from_intent(intent) -> GatewayResult:
    """Normalise a PaymentIntent into a GatewayResult."""
    status = _get(intent, "status")
    next_type = _get(intent, "next_action", "type")
    reference = _get(intent, "id", default="")
    raw = {"stripe_status": status, "next_action": next_type}
    if status == "succeeded":
        return GatewayResult(
            outcome="succeeded", reference=reference, saved_card=_saved_card(intent), raw=raw
        )
    if status == "processing":
        return GatewayResult(outcome="pending", reference=reference, raw=raw)
    if status == "requires_action" and next_type == "konbini_display_details":
        return GatewayResult(
            outcome="pending", reference=reference, instructions=_konbini(intent), raw=raw
        )
    if status == "requires_action" and next_type == "display_bank_transfer_instructions":
        return GatewayResult(
            outcome="pending", reference=reference, instructions=_transfer(intent), raw=raw
        )
    if status == "requires_action":
        url = _get(intent, "next_action", "redirect_to_url", "url", default="")
        return GatewayResult(
            outcome="requires_action", reference=reference, action_url=url, raw=raw
        )
    error = _get(intent, "last_payment_error") or {}
    code = (
        _get(error, "decline_code")
        or _get(error, "code")
        or ("canceled" if status == "canceled" else "failed")
    )
    return GatewayResult(outcome="failed", reference=reference, failure_code=code, raw=raw)


def _saved_card(intent) -> SavedCard | None:
    if not _get(intent, "setup_future_usage") or not _get(intent, "customer"):
        return None
    method = _get(intent, "payment_method")
    method_id = method if isinstance(method, str) else _get(method, "id", default="")
    card = _get(intent, "payment_method", "card") if not isinstance(method, str) else None
    customer = _get(intent, "customer")
    customer_id = customer if isinstance(customer, str) else _get(customer, "id")
    return SavedCard(
        token=f"{customer_id}:{method_id}",
        brand=_get(card, "brand", default="card"),
        last4=_get(card, "last4", default="0000"),
        exp_month=_get(card, "exp_month"),
        exp_year=_get(card, "exp_year"),
    )


def _konbini(intent) -> dict:
    details = _get(intent, "next_action", "konbini_display_details") or {}
    stores = {}
    for store in KONBINI_STORES:
        entry = _get(details, "stores", store)
        if entry:
            stores[store] = {
                "confirmation_number": _get(entry, "confirmation_number", default=""),
                "payment_code": _get(entry, "payment_code", default=""),
            }
    first = next(iter(stores.values()), {"confirmation_number": "", "payment_code": ""})
    expires = _get(details, "expires_at")
    return {
        "konbini": {
            "payment_code": first["payment_code"],
            "confirmation_number": first["confirmation_number"],
            "expires_at": datetime.fromtimestamp(expires, JST).date().isoformat()
            if expires
            else None,
            "amount": str(_get(intent, "amount", default="")),
            "stores": stores,
            "voucher_url": _get(details, "hosted_voucher_url", default=""),
        }
    }


def _transfer(intent) -> dict:
    details = _get(intent, "next_action", "display_bank_transfer_instructions") or {}
    zengin = {}
    for address in _get(details, "financial_addresses", default=[]) or []:
        if _get(address, "type") == "zengin":
            zengin = _get(address, "zengin") or {}
            break
    return {
        "bank_transfer": {
            "bank_name": _get(zengin, "bank_name", default=""),
            "bank_code": _get(zengin, "bank_code", default=""),
            "branch_name": _get(zengin, "branch_name", default=""),
            "branch_code": _get(zengin, "branch_code", default=""),
            "account_type": _get(zengin, "account_type", default="futsu"),
            "account_number": _get(zengin, "account_number", default=""),
            "account_holder": _get(zengin, "account_holder_name", default=""),
            "reference": _get(details, "reference", default=""),
            "amount": str(_get(details, "amount_remaining", default="")),
            "expires_at": None,
            "instructions_url": _get(details, "hosted_instructions_url", default=""),
        }
    }


class StripeGateway:
    name = "stripe"
    find_may_lag = True  # find_payment searches an index that trails Stripe's writes

    def __init__(self, *, api_key=None, webhook_secret=None, http_client=None):
        self.webhook_secret = webhook_secret or settings.STRIPE_WEBHOOK_SECRET
        self.client = stripe.StripeClient(
            api_key or settings.STRIPE_API_KEY or "sk_unset",
            http_client=http_client,
            max_network_retries=2,
        )

    def create_payment(self, request: PaymentRequest) -> GatewayResult:
        """Create and confirm a PaymentIntent; idempotent by request.idempotency_key."""
        key = request.idempotency_key
        params = {
            "amount": to_minor(request.amount),
            "currency": request.amount.currency.code.lower(),
            "confirm": True,
            "description": f"Renewals order {request.reference_hint}",
            # find_payment searches by this key when a crash lost Stripe's answer (R10, R16).
            "metadata": {"order": request.reference_hint, "idempotency_key": key},
        }
        if request.method == "card":
            customer, method = split_token(request.card_token or "")
            if customer is None and request.save_card:
                customer = self._customer(request, key)
            params.update(payment_method_types=["card"], payment_method=method)
            if customer:
                params["customer"] = customer
            if request.off_session:
                params["off_session"] = True
            else:
                params["return_url"] = request.return_url or settings.PORTAL_BASE_URL
            if request.save_card:
                params["setup_future_usage"] = "off_session"
        elif request.method == "konbini":
            params.update(
                payment_method_types=["konbini"],
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
                customer=self._customer(request, key),
                payment_method_types=["customer_balance"],
                payment_method_data={"type": "customer_balance"},
                payment_method_options={
                    "customer_balance": {
                        "funding_type": "bank_transfer",
                        "bank_transfer": {"type": "jp_bank_transfer"},
                    }
                },
            )
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": key}
            )
        except stripe.CardError as exc:
            body = exc.json_body or {}
            intent = _get(body, "error", "payment_intent")
            if intent:
                return result_from_intent(intent)
            code = _get(body, "error", "decline_code") or exc.code or "card_declined"
            return GatewayResult(outcome="failed", reference=f"declined_{key}", failure_code=code)
        result = result_from_intent(intent)
        if request.expires_on and result.instructions and "bank_transfer" in result.instructions:
            result.instructions["bank_transfer"]["expires_at"] = request.expires_on.isoformat()
        return result

    def _customer(self, request: PaymentRequest, key: str) -> str:
        customer = self.client.v1.customers.create(
            params={"email": request.customer_email, "metadata": {"order": request.reference_hint}},
            options={"idempotency_key": f"{key}-customer"},
        )
        return customer["id"]

    def retrieve_payment(self, reference: str) -> GatewayResult:
        """Ask Stripe for the current state of a PaymentIntent."""
        return result_from_intent(
            self.client.v1.payment_intents.retrieve(
                reference, params={"expand": ["payment_method"]}
            )
        )

    def find_payment(self, idempotency_key: str) -> GatewayResult | None:
        """Return the PaymentIntent created with this idempotency key, or None (for the reconciler).

        Searches the `idempotency_key` metadata create_payment stores. Stripe's search index trails
        its writes (normally by under a minute, up to an hour during outages), so None means "not
        found yet", not "never created": `find_may_lag` tells the reconciler so.
        """
        value = idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
        found = self.client.v1.payment_intents.search(
            params={
                "query": f"metadata['idempotency_key']:'{value}'",
                "expand": ["data.payment_method"],  # for the saved card, as retrieve_payment
            }
        )
        intents = list(_get(found, "data", default=[]) or [])
        if not intents:
            return None
        # One key makes one intent; should there be more, a charged one is what must be recorded.
        charged = [i for i in intents if _get(i, "status") == "succeeded"]
        return result_from_intent((charged or intents)[0])

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
        intent = _get(event, "data", "object") or {}
        currency = str(_get(intent, "currency", default="jpy")).upper()
        kind, amount = "ignored", None
        failure = ""
        event_type = _get(event, "type", default="")
        if event_type == "payment_intent.succeeded":
            kind = "payment.succeeded"
            # Whole minor units or refused (never truncated): from_minor raises on 12.5 or "x".
            amount = from_minor(_get(intent, "amount_received", default=0), currency)
        elif event_type == "payment_intent.payment_failed":
            error = _get(intent, "last_payment_error") or {}
            failure = _get(error, "decline_code") or _get(error, "code") or "failed"
            # A konbini voucher that passes its deadline fails the intent: that is an expiry.
            expired = "konbini" in (_get(intent, "payment_method_types") or [])
            kind = "payment.expired" if expired else "payment.failed"
        elif event_type == "payment_intent.canceled":
            kind = "payment.expired"
        elif event_type == "payment_intent.requires_action":
            kind = "payment.requires_action"
        elif event_type == "payment_intent.partially_funded":
            kind = "payment.partially_funded"
            remaining = _get(
                intent,
                "next_action",
                "display_bank_transfer_instructions",
                "amount_remaining",
                default=0,
            )
            amount = from_minor(_get(intent, "amount", default=0) - remaining, currency)
        payload = event.to_dict() if hasattr(event, "to_dict") else dict(event)
        return WebhookNotice(
            event_id=_get(event, "id", default=""),
            type=kind,
            payment_reference=_get(intent, "id", default=""),
            amount=amount,
            created=str(_get(event, "created", default="")),
            payload=payload,
            failure_code=failure,
        )

"""Normalising Stripe's objects into the gateway contract (R10): PaymentIntents, Checkout
Sessions and webhook events in, `GatewayResult` / `WebhookNotice` out. No call to Stripe here.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from renewals.core.money import from_minor

from .base import GatewayResult, SavedCard, WebhookNotice

JST = ZoneInfo("Asia/Tokyo")
KONBINI_STORES = ("familymart", "lawson", "ministop", "seicomart")


def get(obj, *path, default=None):
    """Walk nested Stripe objects / dicts without KeyErrors."""
    for key in path:
        if obj is None:
            return default
        try:
            obj = obj[key]
        except (KeyError, TypeError, IndexError):
            return default
    return default if obj is None else obj


def plain(value) -> dict:
    """A Stripe object (or a dict) as a plain dict."""
    if value is None:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def object_id(value) -> str:
    """The id of an expandable field: a string id or an expanded object."""
    return value if isinstance(value, str) else get(value, "id", default="")


def result_from_intent(intent, *, reference: str = "") -> GatewayResult:
    """Normalise a PaymentIntent; `reference` replaces its id (a Checkout Session's payment)."""
    status = get(intent, "status")
    next_type = get(intent, "next_action", "type")
    reference = reference or get(intent, "id", default="")
    raw = {"stripe_status": status, "next_action": next_type, "payment_intent": get(intent, "id")}
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
        url = get(intent, "next_action", "redirect_to_url", "url", default="")
        return GatewayResult(
            outcome="requires_action", reference=reference, action_url=url, raw=raw
        )
    error = get(intent, "last_payment_error") or {}
    code = (
        get(error, "decline_code")
        or get(error, "code")
        or ("canceled" if status == "canceled" else "failed")
    )
    return GatewayResult(outcome="failed", reference=reference, failure_code=code, raw=raw)


def result_from_session(session) -> GatewayResult:
    """Normalise a Checkout Session (the hosted card page) into a GatewayResult.

    Open: the customer still has to pay on Stripe's page (requires_action, its url). Complete:
    what its PaymentIntent says. Expired: the page closed unpaid (failed, nothing charged).
    """
    reference = get(session, "id", default="")
    status = get(session, "status")
    raw = {"checkout_status": status, "payment_status": get(session, "payment_status")}
    intent = get(session, "payment_intent")
    if status == "complete" and intent and not isinstance(intent, str):
        result = result_from_intent(intent, reference=reference)
        return GatewayResult(**{**result.__dict__, "raw": {**result.raw, **raw}})
    if status == "complete" and get(session, "payment_status") == "paid":
        return GatewayResult(outcome="succeeded", reference=reference, raw=raw)
    if status == "expired":
        return GatewayResult(
            outcome="failed", reference=reference, failure_code="payment_page_expired", raw=raw
        )
    return GatewayResult(
        outcome="requires_action",
        reference=reference,
        action_url=get(session, "url", default=""),
        raw=raw,
    )


def _saved_card(intent) -> SavedCard | None:
    if not get(intent, "setup_future_usage") or not get(intent, "customer"):
        return None
    method = get(intent, "payment_method")
    card = get(method, "card") if not isinstance(method, str) else None
    return SavedCard(
        token=f"{object_id(get(intent, 'customer'))}:{object_id(method)}",
        brand=get(card, "brand", default="card"),
        last4=get(card, "last4", default="0000"),
        exp_month=get(card, "exp_month"),
        exp_year=get(card, "exp_year"),
    )


def _konbini(intent) -> dict:
    details = get(intent, "next_action", "konbini_display_details") or {}
    stores = {}
    for store in KONBINI_STORES:
        entry = get(details, "stores", store)
        if entry:
            stores[store] = {
                "confirmation_number": get(entry, "confirmation_number", default=""),
                "payment_code": get(entry, "payment_code", default=""),
            }
    first = next(iter(stores.values()), {"confirmation_number": "", "payment_code": ""})
    expires = get(details, "expires_at")
    return {
        "konbini": {
            "payment_code": first["payment_code"],
            "confirmation_number": first["confirmation_number"],
            "expires_at": datetime.fromtimestamp(expires, JST).date().isoformat()
            if expires
            else None,
            "amount": str(get(intent, "amount", default="")),
            "stores": stores,
            "voucher_url": get(details, "hosted_voucher_url", default=""),
        }
    }


def _transfer(intent) -> dict:
    details = get(intent, "next_action", "display_bank_transfer_instructions") or {}
    return {
        "bank_transfer": {
            **zengin_account(get(details, "financial_addresses", default=[])),
            "reference": get(details, "reference", default=""),
            "amount": str(get(details, "amount_remaining", default="")),
            "expires_at": None,
            "instructions_url": get(details, "hosted_instructions_url", default=""),
        }
    }


def zengin_account(addresses) -> dict:
    """The Japanese (zengin) virtual account among a customer's financial addresses."""
    zengin = {}
    for address in addresses or []:
        if get(address, "type") == "zengin":
            zengin = get(address, "zengin") or {}
            break
    return {
        "bank_name": get(zengin, "bank_name", default=""),
        "bank_code": get(zengin, "bank_code", default=""),
        "branch_name": get(zengin, "branch_name", default=""),
        "branch_code": get(zengin, "branch_code", default=""),
        "account_type": get(zengin, "account_type", default="futsu"),
        "account_number": get(zengin, "account_number", default=""),
        "account_holder": get(zengin, "account_holder_name", default=""),
    }


def notice_from_event(event) -> WebhookNotice:
    """Normalise a verified Stripe event (payment_intent.*, checkout.session.*, cash balance)."""
    obj = get(event, "data", "object") or {}
    currency = str(get(obj, "currency", default="jpy")).upper()
    kind, amount, failure, reference = "ignored", None, "", get(obj, "id", default="")
    customer = funds = ""
    event_type = get(event, "type", default="")
    if event_type == "payment_intent.succeeded":
        kind = "payment.succeeded"
        amount = from_minor(get(obj, "amount_received", default=0), currency)
    elif event_type == "payment_intent.payment_failed":
        error = get(obj, "last_payment_error") or {}
        failure = get(error, "decline_code") or get(error, "code") or "failed"
        # A konbini voucher that passes its deadline fails the intent: that is an expiry.
        types = [
            *(get(obj, "payment_method_types") or []),
            *(get(obj, "allowed_payment_method_types") or []),
        ]
        expired = "konbini" in types
        kind = "payment.expired" if expired else "payment.failed"
    elif event_type == "payment_intent.canceled":
        kind = "payment.expired"
    elif event_type == "payment_intent.requires_action":
        kind = "payment.requires_action"
    elif event_type == "payment_intent.partially_funded":
        kind = "payment.partially_funded"
        remaining = get(
            obj, "next_action", "display_bank_transfer_instructions", "amount_remaining", default=0
        )
        amount = from_minor(get(obj, "amount", default=0) - remaining, currency)
    elif event_type == "checkout.session.completed" and get(obj, "payment_status") == "paid":
        kind = "payment.succeeded"
        amount = from_minor(get(obj, "amount_total", default=0), currency)
    elif event_type == "checkout.session.expired":
        kind = "payment.expired"
    elif event_type == "customer_cash_balance_transaction.created":
        # One movement of the customer's cash balance, with its own id. `funded`: money arrived
        # (net_amount, this arrival only); `applied_to_payment`: Stripe moved money from the
        # balance to a PaymentIntent (its own reconciliation, or our apply_customer_balance).
        # `cash_balance.funds_available` is not read: it reports the whole remaining balance,
        # not what is new, and only one currency of it would fit a notice (docs/payments.md).
        kind, funds, customer, reference = _cash_balance_transaction(obj)
        net = get(obj, "net_amount", default=0)
        amount = from_minor(abs(net), currency) if kind != "ignored" else None
    payload = event.to_dict() if hasattr(event, "to_dict") else dict(event)
    metadata = plain(get(obj, "metadata"))
    return WebhookNotice(
        event_id=get(event, "id", default=""),
        type=kind,
        payment_reference=reference,
        amount=amount,
        created=str(get(event, "created", default="")),
        payload=payload,
        failure_code=failure,
        metadata={
            k: str(v) for k, v in dict(metadata).items() if k in ("order", "idempotency_key")
        },
        gateway_customer_id=customer,
        funds_id=funds,
    )


def _cash_balance_transaction(txn) -> tuple[str, str, str, str]:
    """(notice type, the transaction's id, the Stripe customer, the PaymentIntent applied to)."""
    kind = {"funded": "customer.funds_received", "applied_to_payment": "customer.funds_applied"}
    found = kind.get(get(txn, "type", default=""), "ignored")
    net = get(txn, "net_amount", default=0)
    if (found == "customer.funds_received" and net <= 0) or (
        found == "customer.funds_applied" and net >= 0
    ):
        found = "ignored"  # not what these types carry: nothing to record
    intent = object_id(get(txn, "applied_to_payment", "payment_intent"))
    return (
        found,
        get(txn, "id", default="") if found != "ignored" else "",
        object_id(get(txn, "customer")),
        intent if found == "customer.funds_applied" else "",
    )

"""The payment-gateway contract (R10): small, normalised, and free of any provider's objects.

A gateway is chosen by settings.PAYMENT_GATEWAY the way Django chooses EMAIL_BACKEND. Domain code
sees only these dataclasses. Every call that can charge carries an idempotency key: repeating it
returns the first result and never charges twice.

Outcomes are three-valued where it matters: a call whose answer was lost (connection error,
time-out, a 5xx, a rate limit) is `unknown`, never `failed` — the gateway may have charged. The
payment is then looked up by its idempotency key (`find_payment`) or reference
(`retrieve_payment`) until the gateway says what happened (R10).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, Protocol

from renewals.core.money import Money

Outcome = Literal["succeeded", "requires_action", "pending", "failed", "unknown"]


@dataclass(frozen=True)
class PaymentRequest:
    """What to collect: one order's total, by one method."""

    reference_hint: str  # the order number, for the gateway's dashboard and receipts
    amount: Money
    method: Literal["card", "konbini", "bank_transfer"]
    idempotency_key: str
    customer_email: str
    # A saved card's token, or a sandbox test card number; None for a new card, which the
    # gateway collects on its own payment page (the answer is requires_action + action_url).
    card_token: str | None = None
    save_card: bool = False
    off_session: bool = False  # an automatic renewal charge (R12): no customer present
    expires_on: date | None = None  # konbini / transfer deadline (R9)
    return_url: str = ""  # where a 3-D Secure challenge sends the customer back
    cancel_url: str = ""  # where the gateway's payment page sends a customer who gives up
    gateway_customer_id: str = ""  # the CSN's one customer at the gateway (cards, transfers)
    customer_name: str = ""
    csn: str = ""


@dataclass(frozen=True)
class SavedCard:
    token: str
    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class GatewayResult:
    """The normalised answer of a gateway about one payment."""

    outcome: Outcome
    reference: str  # the gateway's id of the payment (unique)
    failure_code: str = ""  # card_declined, insufficient_funds, authentication_failed, …
    action_url: str = ""  # the 3-D Secure challenge, when outcome is requires_action
    instructions: dict | None = None  # {"konbini": {...}} or {"bank_transfer": {...}}
    saved_card: SavedCard | None = None
    raw: dict = field(default_factory=dict)  # for the audit trail; never shown to customers
    error: str = ""  # for unknown: what was lost (timeout, connection_error, server_error, …)


def unknown(error: str, *, reference: str = "", raw: dict | None = None) -> GatewayResult:
    """The result of a call whose answer was lost: the gateway may or may not have acted."""
    return GatewayResult(outcome="unknown", reference=reference, error=error, raw=raw or {})


@dataclass(frozen=True)
class WebhookNotice:
    """A verified inbound event, normalised."""

    event_id: str
    type: Literal[
        "payment.succeeded",
        "payment.failed",
        "payment.expired",
        "transfer.received",
        "payment.requires_action",
        "payment.partially_funded",  # Stripe: the total received so far, short of the amount
        "customer.funds_received",  # money that arrived on a customer's balance (one arrival)
        "customer.funds_applied",  # money the gateway moved from that balance to a payment
        "ignored",
    ]
    payment_reference: str
    amount: Money | None
    created: str
    payload: dict
    failure_code: str = ""
    # What the gateway stored with the payment (order number, idempotency key): matches an event
    # whose reference the payment does not carry yet (its first answer was lost, R10).
    metadata: dict = field(default_factory=dict)
    gateway_customer_id: str = ""  # customer.funds_*: whose balance
    # customer.funds_*: the gateway's id of that one balance movement (Stripe `ccsbtxn_…`), the
    # key it is recorded once by, whatever event carries it.
    funds_id: str = ""


class GatewayUnavailable(Exception):
    """A call that moves no money could not get its answer (a customer record, a lookup)."""


class WebhookSignatureError(Exception):
    """The event is unsigned, stale or tampered: answer 400 and change nothing."""


class Gateway(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> GatewayResult:
        """Start collecting a payment; idempotent by request.idempotency_key."""

    def retrieve_payment(self, reference: str) -> GatewayResult:
        """Ask the gateway what became of a payment (for reconcilers and 3-D Secure returns)."""

    def ensure_customer(self, *, csn: str, name: str, email: str, existing: str) -> str:
        """Return the CSN's customer id at the gateway: `existing` if it is one, else a new one
        (idempotent by the CSN). Raises GatewayUnavailable when the answer is lost."""

    def find_payment(self, idempotency_key: str) -> GatewayResult | None:
        """Find the payment created with this idempotency key; None if the gateway shows none.

        For the reconciler, which knows a crashed payment only by the key it sent. A gateway whose
        lookup trails its writes (Stripe's search) sets `find_may_lag = True`: its None means "not
        found yet", and the reconciler leaves the payment to its deadline instead of failing it.
        """

    def parse_webhook(self, body: bytes, headers: dict) -> WebhookNotice:
        """Verify a webhook's signature and normalise it; raise WebhookSignatureError."""

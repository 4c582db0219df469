"""Schemas of the API for validation and the OpenAPI document (interfaces.md §2)."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

EUR = {"amount": "1890.00", "currency": "EUR"}


def _example(value: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class MoneyOut(Schema):
    """An exact amount: a decimal string with the currency's ISO 4217 exponent (JPY "52800")."""

    model_config = _example(EUR)
    amount: str = Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")
    currency: str = Field(min_length=3, max_length=3)


class MoneyIn(Schema):
    model_config = _example(EUR)
    amount: str = Field(max_length=40, pattern=r"^-?[0-9]{1,20}(\.[0-9]{1,6})?$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class ErrorDetail(Schema):
    code: str
    message: str
    details: list[Any]


class ErrorOut(Schema):
    """Every error of the API: a stable code, a message in words, and details."""

    model_config = _example(
        {"error": {"code": "not_found", "message": "No such subscription.", "details": []}}
    )
    error: ErrorDetail


class Product(Schema):
    code: str
    name: str


class Span(Schema):
    start: date
    end: date


class PaymentMethodOut(Schema):
    type: str
    last4: str | None


class PartnerOut(Schema):
    name: str
    email: str
    phone: str


class RenewalOut(Schema):
    eligible: bool
    reasons: list[str]
    window_opens: date
    window_closes: date = Field(description="The last renewable day.")
    unit_price: MoneyOut | None
    price: MoneyOut | None = Field(description="unit_price × seats, tax excluded.")
    price_kind: Literal["renewal", "list"] | None
    next_term: Span


class TermOut(Schema):
    start: date
    end: date
    order: str | None


SUBSCRIPTION_EXAMPLE = {
    "id": "SUB-1001",
    "csn": "5100000001",
    "customer_name": "Atelier Dupont",
    "product": {"code": "ACAD", "name": "AutoCAD"},
    "term": "annual",
    "seats": 3,
    "currency": "EUR",
    "start_date": "2024-03-31",
    "renewal_date": "2027-03-31",
    "stage": "active",
    "access": True,
    "auto_renew": False,
    "purchase_method": "online",
    "payment_method": {"type": "card", "last4": "4242"},
    "purchaser": "marie@dupont.example",
    "partner": None,
    "trial": False,
    "renewal": {
        "eligible": True,
        "reasons": [],
        "window_opens": "2026-12-31",
        "window_closes": "2027-05-14",
        "unit_price": EUR,
        "price": {"amount": "5670.00", "currency": "EUR"},
        "price_kind": "renewal",
        "next_term": {"start": "2027-03-31", "end": "2028-03-31"},
    },
    "terms": [{"start": "2026-03-31", "end": "2027-03-31", "order": None}],
}


class SubscriptionOut(Schema):
    model_config = _example(SUBSCRIPTION_EXAMPLE)
    id: str
    csn: str
    customer_name: str
    product: Product
    term: Literal["monthly", "annual", "three_year"]
    seats: int
    currency: str
    start_date: date
    renewal_date: date
    stage: Literal["active", "expired", "suspended", "cancelled"]
    access: bool
    auto_renew: bool
    purchase_method: Literal["online", "invoice", "partner"]
    payment_method: PaymentMethodOut | None
    purchaser: str
    partner: PartnerOut | None
    trial: bool
    renewal: RenewalOut
    terms: list[TermOut]


class SubscriptionPage(Schema):
    model_config = _example(
        {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [SUBSCRIPTION_EXAMPLE],
        }
    )
    count: int
    next: str | None
    previous: str | None
    results: list[SubscriptionOut]


class AutoRenewIn(Schema):
    model_config = _example({"auto_renew": False})
    auto_renew: bool


class BulkAutoRenewIn(Schema):
    model_config = _example({"subscription_ids": ["SUB-1001", "SUB-1002"], "auto_renew": False})
    subscription_ids: list[str] = Field(max_length=1000)
    auto_renew: bool


class AutoRenewResultOut(Schema):
    id: str
    ok: bool
    reasons: list[str]


class BulkAutoRenewOut(Schema):
    model_config = _example(
        {
            "results": [
                {"id": "SUB-1001", "ok": True, "reasons": []},
                {"id": "SUB-9999", "ok": False, "reasons": ["not_found"]},
            ]
        }
    )
    results: list[AutoRenewResultOut]


class LineOut(Schema):
    subscription_id: str
    product: Product
    seats: int
    term: str
    unit_price: MoneyOut
    price_kind: Literal["renewal", "list"]
    amount: MoneyOut
    next_term: Span


LINE_EXAMPLE = {
    "subscription_id": "SUB-1001",
    "product": {"code": "ACAD", "name": "AutoCAD"},
    "seats": 3,
    "term": "annual",
    "unit_price": EUR,
    "price_kind": "renewal",
    "amount": {"amount": "5670.00", "currency": "EUR"},
    "next_term": {"start": "2027-03-31", "end": "2028-03-31"},
}


class BlockedOut(Schema):
    subscription_id: str
    reasons: list[str]


class CartGroupOut(Schema):
    key: str
    csn: str
    currency: str
    purchase_method: str
    lines: list[LineOut]
    blocked: list[BlockedOut] = Field(
        description="Lines that cannot be renewed now (R5 reasons); not in the totals."
    )
    subtotal: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    payment_methods: list[str]


CART_EXAMPLE = {
    "groups": [
        {
            "key": "5100000001:EUR:online",
            "csn": "5100000001",
            "currency": "EUR",
            "purchase_method": "online",
            "lines": [LINE_EXAMPLE],
            "blocked": [],
            "subtotal": {"amount": "5670.00", "currency": "EUR"},
            "tax": {"amount": "1134.00", "currency": "EUR"},
            "total": {"amount": "6804.00", "currency": "EUR"},
            "payment_methods": ["card"],
        }
    ],
    "count": 1,
}


class CartOut(Schema):
    model_config = _example(CART_EXAMPLE)
    groups: list[CartGroupOut]
    count: int


class RejectedOut(Schema):
    id: str
    reasons: list[str]


class CartAddOut(CartOut):
    model_config = _example(
        {**CART_EXAMPLE, "rejected": [{"id": "SUB-1002", "reasons": ["too_early"]}]}
    )
    rejected: list[RejectedOut]


class CartItemsIn(Schema):
    model_config = _example({"subscription_ids": ["SUB-1001", "SUB-1002"]})
    # R7 allows 100 in the cart; a longer list is answered with the too_many error, not a 422.
    subscription_ids: list[str] = Field(max_length=1000)


class PaymentIn(Schema):
    """One of: a new card (collected on the gateway's payment page: omit card_number), a saved
    card id, konbini, bank_transfer, invoice. `card_number` is accepted by the sandbox only, and
    only its published test numbers (422 card_number_not_accepted otherwise)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"method": "card", "save": True},
                {"method": "card", "card_number": "4242424242424242", "save": False},
                {"method": "card", "payment_method_id": "12"},
                {"method": "konbini"},
            ]
        }
    )
    method: Literal["card", "konbini", "bank_transfer", "invoice"]
    card_number: str | None = Field(default=None, max_length=40)
    save: bool = False
    payment_method_id: str | None = Field(default=None, max_length=40)


class CheckoutIn(Schema):
    model_config = _example(
        {
            "group": "5100000001:EUR:online",
            "payment": {"method": "card", "card_number": "4242424242424242", "save": True},
            "expected_total": {"amount": "6804.00", "currency": "EUR"},
        }
    )
    group: str = Field(max_length=200)
    payment: PaymentIn
    expected_total: MoneyIn | None = None


class PaymentOut(Schema):
    method: str
    status: str
    reference: str
    failure_code: str | None
    instructions: dict[str, Any] | None = Field(
        description='{"konbini": {confirmation_number, payment_code, expires_at}} or '
        '{"bank_transfer": {...}} or null'
    )
    action_url: str | None = Field(description="The 3-D Secure challenge, when required.")


class InvoiceOut(Schema):
    number: str
    due_date: date | None
    status: str
    pdf_url: str | None


ORDER_EXAMPLE = {
    "number": "R-2026-000042",
    "status": "paid",
    "csn": "5100000001",
    "currency": "EUR",
    "purchase_method": "online",
    "created": "2026-11-26T03:10:00Z",
    "lines": [LINE_EXAMPLE],
    "subtotal": {"amount": "5670.00", "currency": "EUR"},
    "tax": {"amount": "1134.00", "currency": "EUR"},
    "total": {"amount": "6804.00", "currency": "EUR"},
    "payment": {
        "method": "card",
        "status": "succeeded",
        "reference": "sbx_pay_1",
        "failure_code": None,
        "instructions": None,
        "action_url": None,
    },
    "invoice": None,
}


class OrderOut(Schema):
    model_config = _example(ORDER_EXAMPLE)
    number: str
    status: Literal[
        "paid",
        "pending_payment",
        "requires_action",
        "confirming",
        "failed",
        "expired",
        "payment_after_release",
        "refunded",
    ]
    csn: str
    currency: str
    purchase_method: str
    created: datetime
    lines: list[LineOut]
    subtotal: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    payment: PaymentOut | None
    invoice: InvoiceOut | None


class OrderPage(Schema):
    model_config = _example(
        {"count": 1, "next": None, "previous": None, "results": [ORDER_EXAMPLE]}
    )
    count: int
    next: str | None
    previous: str | None
    results: list[OrderOut]

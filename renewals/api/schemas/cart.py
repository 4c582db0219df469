"""Schemas of the cart and checkout endpoints: lines, groups, changes, payment choice."""

from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool

from .common import EUR, MoneyIn, MoneyOut, Product, Span, _example


class PreviousOut(Schema):
    seats: int
    term: Literal["monthly", "annual", "three_year"]


class LineOut(Schema):
    subscription_id: str
    product: Product
    seats: int = Field(description="Seats of the term bought.")
    term: str = Field(description="The term bought: monthly, annual or three_year.")
    unit_price: MoneyOut
    price_kind: Literal["renewal", "list"]
    amount: MoneyOut
    next_term: Span
    previous: PreviousOut | None = Field(
        None,
        description="The subscription's seats and term before this renewal, when it changes "
        "them (R21); null otherwise.",
    )


class ChoicesOut(Schema):
    max_seats: int = Field(description="The most seats this line may be changed to (R21).")
    terms: list[Literal["monthly", "annual", "three_year"]] = Field(
        description="The terms this line may be changed to: those the catalogue sells."
    )


class CartLineOut(LineOut):
    choices: ChoicesOut


LINE_EXAMPLE = {
    "subscription_id": "SUB-1001",
    "product": {"code": "ACAD", "name": "AutoCAD"},
    "seats": 3,
    "term": "annual",
    "unit_price": EUR,
    "price_kind": "renewal",
    "amount": {"amount": "5670.00", "currency": "EUR"},
    "next_term": {"start": "2027-03-31", "end": "2028-03-31"},
    "previous": None,
}


class BlockedOut(Schema):
    subscription_id: str
    reasons: list[str]


class CartGroupOut(Schema):
    key: str
    csn: str
    currency: str
    purchase_method: str
    lines: list[CartLineOut]
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
            "lines": [
                {**LINE_EXAMPLE, "choices": {"max_seats": 10000, "terms": ["monthly", "annual"]}}
            ],
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


class CartItemChangeIn(Schema):
    """The seats and/or term of the line's next term (R21); an omitted or null key is kept."""

    model_config = _example({"seats": 3, "term": "annual"})
    seats: int | None = Field(None, description="At least 1, at most the line's max_seats.")
    term: str | None = Field(None, description="monthly, annual or three_year, if sold.")


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
    save: StrictBool = False
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
    purchase_order: str | None = Field(
        default=None,
        max_length=60,
        description="Your purchase-order number, printed on the invoice (R20).",
    )

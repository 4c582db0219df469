"""Schemas of the subscriptions endpoints: a subscription, its page, auto-renew changes."""

from datetime import date
from typing import Literal

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from .common import EUR, MoneyOut, Product, Span, _example


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
    seats: int = Field(description="Seats of the next term (a scheduled change applied, R21).")
    term: Literal["monthly", "annual", "three_year"] = Field(
        description="Term of the next term (a scheduled change applied, R21)."
    )
    next_term: Span


class ScheduledChangeOut(Schema):
    """A change of the next term scheduled on the subscription (R21): null keeps that value."""

    renewal_date: date = Field(description="The D it applies at: the term [D, …) only.")
    seats: int | None = Field(description="Seats of the next term; null keeps the current.")
    term: Literal["monthly", "annual", "three_year"] | None = Field(
        description="Term of the next term; null keeps the current."
    )


class TermOut(Schema):
    start: date
    end: date
    order: str | None
    seats: int | None = Field(description="Seats of this term; null when not recorded (R21).")
    term: Literal["monthly", "annual", "three_year"] | None


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
        "seats": 3,
        "term": "annual",
        "next_term": {"start": "2027-03-31", "end": "2028-03-31"},
    },
    "scheduled_change": None,
    "terms": [
        {"start": "2026-03-31", "end": "2027-03-31", "order": None, "seats": 3, "term": "annual"}
    ],
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
    scheduled_change: ScheduledChangeOut | None = Field(
        description="The change scheduled for the next renewal (R21), or null."
    )
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


# Inputs take JSON booleans only: "yes", "true", 1 or "on" is a 422, never a guessed true.


class AutoRenewIn(Schema):
    model_config = _example({"auto_renew": False})
    auto_renew: StrictBool


class ScheduledChangeIn(Schema):
    """The seats and/or term of the next term (R21); an omitted or null key keeps the current
    value, and the current seats and term together cancel the change."""

    model_config = _example({"seats": 3, "term": "annual"})
    seats: StrictInt | None = Field(None, description="At least 1, at most the offering's bound.")
    term: str | None = Field(None, description="monthly, annual or three_year, if sold.")


class BulkAutoRenewIn(Schema):
    model_config = _example({"subscription_ids": ["SUB-1001", "SUB-1002"], "auto_renew": False})
    subscription_ids: list[str] = Field(max_length=1000)
    auto_renew: StrictBool


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

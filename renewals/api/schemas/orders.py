"""Schemas of orders and invoices: payments, invoices, credit notes and their pages."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from .cart import LINE_EXAMPLE, LineOut
from .common import MoneyOut, _example


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
    status: Literal["paid", "unpaid", "overdue"]
    pdf_url: str | None
    language: str = Field(description="The language it is written in: en, fr or ja (R20).")


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
    "invoice": {
        "number": "INV-2026-000042",
        "due_date": "2026-11-26",
        "status": "paid",
        "pdf_url": "https://renewals.example/billing/invoices/INV-2026-000042.pdf",
        "language": "en",
    },
    "purchase_order": None,
    "credit_notes": [],
}


class CreditNoteOut(Schema):
    number: str
    amount: MoneyOut
    pdf_url: str


INVOICE_EXAMPLE = {
    **ORDER_EXAMPLE["invoice"],
    "order": "R-2026-000042",
    "csn": "5100000001",
    "issued_on": "2026-11-26",
    "paid_on": "2026-11-26",
    "currency": "EUR",
    "subtotal": {"amount": "5670.00", "currency": "EUR"},
    "tax": {"amount": "1134.00", "currency": "EUR"},
    "total": {"amount": "6804.00", "currency": "EUR"},
    "purchase_order": "PO-1234",
    "payment": None,
}


class InvoiceDetailOut(InvoiceOut):
    model_config = _example(INVOICE_EXAMPLE)
    order: str
    csn: str
    issued_on: date
    paid_on: date | None
    currency: str
    subtotal: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    purchase_order: str | None
    payment: PaymentOut | None = Field(
        description="The payment of this invoice under way (konbini slip, 3-D Secure), if any."
    )


class InvoicePage(Schema):
    model_config = _example(
        {"count": 1, "next": None, "previous": None, "results": [INVOICE_EXAMPLE]}
    )
    count: int
    next: str | None
    previous: str | None
    results: list[InvoiceDetailOut]


class OrderOut(Schema):
    model_config = _example(ORDER_EXAMPLE)
    number: str
    status: Literal[
        "paid",
        "invoiced",
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
    purchase_order: str | None = Field(description="Your purchase-order number, if given.")
    credit_notes: list[CreditNoteOut] = Field(description="Refunds of its invoice (R20).")


class OrderPage(Schema):
    model_config = _example(
        {"count": 1, "next": None, "previous": None, "results": [ORDER_EXAMPLE]}
    )
    count: int
    next: str | None
    previous: str | None
    results: list[OrderOut]

from datetime import date

import pytest

from tests.factories import SubscriptionFactory, TaxRateFactory, priced_subscription

pytestmark = pytest.mark.django_db

ORDER_KEYS = {
    "number", "status", "csn", "currency", "purchase_method", "created", "lines", "subtotal",
    "tax", "total", "payment", "invoice", "purchase_order", "credit_notes",
}  # fmt: skip


def test_invoice_order_shows_its_invoice_with_pdf_link(api, user, customer, today):
    TaxRateFactory(country="FR", rate="0.20")
    # R9: invoice is allowed to a customer that already pays a subscription by invoice.
    SubscriptionFactory(customer=customer, purchaser=user, payment_method="invoice",
                        purchase_method="invoice")  # fmt: skip
    priced_subscription(
        id="SUB-INV", customer=customer, purchaser=user, purchase_method="invoice",
        payment_method="invoice", renewal_date=date(2027, 1, 31), seats=1,
    )  # fmt: skip
    api.post(
        "/api/v1/cart/items", {"subscription_ids": ["SUB-INV"]}, content_type="application/json"
    )
    response = api.post(
        "/api/v1/checkout",
        {"group": "5100000001:EUR:invoice", "payment": {"method": "invoice"}},
        content_type="application/json",
        headers={"Idempotency-Key": "inv-1"},
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order["status"] == "invoiced"  # R9: not "paid" while the invoice is unpaid
    assert order["subtotal"] == {"amount": "1890.00", "currency": "EUR"}
    assert order["tax"] == {"amount": "378.00", "currency": "EUR"}
    assert order["total"] == {"amount": "2268.00", "currency": "EUR"}
    invoice = order["invoice"]
    assert set(invoice) == {"number", "due_date", "status", "pdf_url", "language"}
    assert invoice["status"] == "unpaid"
    assert invoice["due_date"] == "2026-12-26"  # 30 days net (R9)
    assert invoice["pdf_url"] == f"http://testserver/billing/invoices/{invoice['number']}.pdf"


def test_orders_list_uses_a_fixed_number_of_queries(api, user, customer, today):
    TaxRateFactory(country="FR", rate="0.20")
    for n in range(6):
        priced_subscription(id=f"SUB-{n}", customer=customer, purchaser=user,
                            renewal_date=date(2027, 1, 31))  # fmt: skip
    for n in range(6):
        api.post("/api/v1/cart/items", {"subscription_ids": [f"SUB-{n}"]},
                 content_type="application/json")  # fmt: skip
        api.post(
            "/api/v1/checkout",
            {"group": "5100000001:EUR:online", "payment": {"method": "card", "card_number": "4242424242424242"}},
            content_type="application/json",
            headers={"Idempotency-Key": f"k{n}"},
        )  # fmt: skip
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/orders?page_size=1")
    with CaptureQueriesContext(connection) as six:
        body = api.get("/api/v1/orders?page_size=6").json()
    assert body["count"] == 6 and len(body["results"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)

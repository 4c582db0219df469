"""The "done when" scenario, through the API alone (R5, R7–R11, R14, R15)."""

from datetime import date

import pytest
from django.core import mail
from django.test import Client

from renewals.payments.gateways.sandbox import SandboxGateway
from renewals.subscriptions.models import Subscription
from tests.factories import CustomerFactory, TaxRateFactory, priced_subscription

from .conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)  # emails leave after commit, as in production

D = date(2027, 1, 31)


def events(kind=None):
    found = [m.extra_headers["X-Renewals-Event"] for m in mail.outbox]
    return found if kind is None else [e for e in found if e == kind]


def test_renew_100_pay_two_groups_settle_konbini_and_turn_auto_renew_off(user, today):
    eur = CustomerFactory(csn="5100000001", country="FR")
    jpy = CustomerFactory(csn="7100000001", country="JP")
    TaxRateFactory(country="FR", rate="0.20")
    TaxRateFactory(country="JP", rate="0.10")
    for n in range(60):
        priced_subscription(
            id=f"EU-{n:03d}", customer=eur, purchaser=user, renewal_date=D, seats=2,
            offering__code="ACAD", auto_renew=n < 3,
        )  # fmt: skip
    for n in range(40):
        priced_subscription(
            id=f"JP-{n:03d}", customer=jpy, purchaser=user, renewal_date=D, seats=1,
            currency="JPY", payment_method="konbini", offering__code="MAYA",
            list_price="6000", renewal_price="5000",
        )  # fmt: skip
    priced_subscription(
        id="EU-LATER", customer=eur, purchaser=user, renewal_date=date(2027, 6, 30),
        offering__code="ACAD",
    )  # fmt: skip
    api = client_for(user)

    listed = api.get("/api/v1/subscriptions?renewable=true&page_size=500").json()
    ids = [s["id"] for s in listed["results"]]
    assert listed["count"] == 100 and "EU-LATER" not in ids

    cart = api.post(
        "/api/v1/cart/items", {"subscription_ids": ids}, content_type="application/json"
    ).json()
    assert cart["count"] == 100 and cart["rejected"] == []
    groups = {g["key"]: g for g in cart["groups"]}
    assert set(groups) == {"5100000001:EUR:online", "7100000001:JPY:online"}
    eur_group, jpy_group = groups["5100000001:EUR:online"], groups["7100000001:JPY:online"]
    assert eur_group["total"] == {"amount": "272160.00", "currency": "EUR"}  # 60×2×1890 ×1.2
    assert jpy_group["total"] == {"amount": "220000", "currency": "JPY"}  # 40×5000 ×1.1
    assert "konbini" in jpy_group["payment_methods"]

    paid = api.post(
        "/api/v1/checkout",
        {
            "group": eur_group["key"],
            "payment": {"method": "card", "card_number": "4242424242424242", "save": False},
            "expected_total": eur_group["total"],
        },
        content_type="application/json",
        headers={"Idempotency-Key": "e2e-card"},
    )
    assert paid.status_code == 201
    card_order = paid.json()
    assert card_order["status"] == "paid"

    pending = api.post(
        "/api/v1/checkout",
        {
            "group": jpy_group["key"],
            "payment": {"method": "konbini"},
            "expected_total": jpy_group["total"],
        },
        content_type="application/json",
        headers={"Idempotency-Key": "e2e-konbini"},
    )
    assert pending.status_code == 201
    konbini_order = pending.json()
    assert konbini_order["status"] == "pending_payment"
    voucher = konbini_order["payment"]["instructions"]["konbini"]
    assert voucher["confirmation_number"] and voucher["payment_code"]
    assert events("payment-instructions") == ["payment-instructions"]
    assert Subscription.objects.get(pk="JP-000").renewal_date == D

    # The customer pays at the konbini; the sandbox sends its signed webhook.
    gateway = SandboxGateway()
    _type, body = gateway.customer_pays(konbini_order["payment"]["reference"])
    hook = Client().post(
        "/webhooks/sandbox",
        body,
        content_type="application/json",
        headers=gateway.signed_headers(body),
    )
    assert hook.status_code == 200

    card_read = api.get(f"/api/v1/orders/{card_order['number']}").json()
    konbini_read = api.get(f"/api/v1/orders/{konbini_order['number']}").json()
    assert card_read["status"] == "paid" and len(card_read["lines"]) == 60
    assert konbini_read["status"] == "paid" and len(konbini_read["lines"]) == 40
    assert konbini_read["payment"]["status"] == "succeeded"
    assert api.get("/api/v1/orders").json()["count"] == 2
    assert api.get("/api/v1/cart").json() == {"groups": [], "count": 0}
    assert set(Subscription.objects.filter(pk__in=ids).values_list("renewal_date", flat=True)) == {
        date(2028, 1, 31)
    }

    switched = api.post(
        "/api/v1/subscriptions/auto-renew",
        {"subscription_ids": ["EU-000", "EU-001", "EU-002"], "auto_renew": False},
        content_type="application/json",
    )
    assert [r["ok"] for r in switched.json()["results"]] == [True, True, True]
    assert not Subscription.objects.filter(auto_renew=True).exists()

    assert sorted(events()) == sorted(
        ["order-confirmation", "payment-instructions", "order-confirmation", "auto-renew-changed"]
    )
    confirmations = [
        m for m in mail.outbox if m.extra_headers["X-Renewals-Event"] == "order-confirmation"
    ]
    assert {m.extra_headers["X-Renewals-Order"] for m in confirmations} == {
        card_order["number"],
        konbini_order["number"],
    }
    assert all(m.to == [user.email] for m in mail.outbox)

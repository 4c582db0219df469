"""The "Done when" walks of issues 2, 4 and 5: a Japanese purchaser at the konbini, a bulk
renewal across groups, an import with four mistakes. The others are test_done_when.py; the
fixtures are conftest.py, the helpers walks.py."""

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from renewals.accounts.models import Customer, Partner, User
from renewals.catalog.models import Offering, Price, TaxRate
from renewals.checkout.models import CartLine, Order
from renewals.core.formatting import long_date
from renewals.notifications import outbox
from renewals.notifications.models import Email
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

from .walks import CARD_OK, D, _bulk_post, _messages, _pay_group, _text_part

pytestmark = pytest.mark.django_db


# (d) Issue 5: a Japanese purchaser pays at the konbini; another voucher expires on the daily run.


@pytest.fixture
def hanako(client):
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    user = UserFactory(email="hanako@yamada.example", name="山田花子", language="ja")
    client.force_login(user)
    return user


def _jpy_konbini(sub_id, purchaser, customer, renewal_date):
    return priced_subscription(
        id=sub_id,
        purchaser=purchaser,
        customer=customer,
        seats=2,
        currency="JPY",
        renewal_date=renewal_date,
        payment_method="konbini",
        offering=OfferingFactory(code="INV", name="Inventor"),
        list_price="33000",
        renewal_price="29700",
    )


def test_japanese_purchaser_pays_at_the_konbini_and_an_unpaid_voucher_expires_on_the_daily_run(
    client, frozen_today, hanako, smtp
):
    today = frozen_today(date(2027, 3, 1))
    yamada = CustomerFactory(csn="5300000001", name="山田設計", country="JP")
    _jpy_konbini("JP-1", hanako, yamada, D)
    group = "5300000001:JPY:online"

    client.post("/billing/subscriptions/JP-1/renew/")
    response = _pay_group(client, group, method="konbini")
    order = Order.objects.get()
    payment = Payment.objects.get(order=order)
    assert response["Location"] == f"/billing/orders/{order.number}/"
    assert (order.status, order.total) == ("pending_payment", Decimal("65340"))
    page = client.get(response["Location"]).content.decode()
    voucher = payment.instructions["konbini"]
    assert voucher["payment_code"] in page
    assert "￥65,340" in page and "￥65,340.00" not in page
    deadline = today + timedelta(days=3)
    assert long_date(deadline, "ja") in page

    # The voucher arrives by email, in Japanese.
    assert outbox.deliver_due() == {"sent": 1}
    (instructions,) = smtp.messages
    assert instructions["X-Renewals-Event"] == "payment-instructions"
    assert instructions["To"] == "hanako@yamada.example"
    text = _text_part(instructions)
    assert voucher["payment_code"] in text and voucher["confirmation_number"] in text
    assert "2027年3月4日" in text

    # The customer pays at the store: the sandbox sends the signed webhook.
    call_command("sandbox", "pay", payment.reference, stdout=StringIO())
    order.refresh_from_db()
    assert order.status == "paid"
    assert Subscription.objects.get(pk="JP-1").renewal_date == date(2028, 3, 31)
    assert outbox.deliver_due() == {"sent": 1}
    assert [m["X-Renewals-Event"] for m in smtp.messages] == [
        "payment-instructions",
        "order-confirmation",
    ]
    detail = client.get("/billing/subscriptions/JP-1/").content.decode()
    assert re.search(r'data-testid="renewal-date">2028年3月31日<', detail)

    # Another voucher left to its deadline: the daily run of the day after expires it.
    _jpy_konbini("JP-2", hanako, yamada, date(2027, 4, 30))
    client.post("/billing/subscriptions/JP-2/renew/")
    _pay_group(client, group, method="konbini")
    second = Order.objects.exclude(pk=order.pk).get()
    assert second.status == "pending_payment"
    assert second.payment.expires_on == deadline
    out = StringIO()
    call_command("daily", "--date", deadline.isoformat(), stdout=out)
    second.refresh_from_db()
    assert second.status == "pending_payment"  # payable all through its deadline day
    call_command("daily", "--date", (deadline + timedelta(days=1)).isoformat(), stdout=out)
    second.refresh_from_db()
    assert second.status == "expired"
    renewed = Subscription.objects.get(pk="JP-2")
    assert renewed.renewal_date == date(2027, 4, 30)
    assert not Term.objects.filter(subscription_id="JP-2", start=date(2027, 4, 30)).exists()
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    assert Email.objects.filter(kind="payment-expired").count() == 1
    # Renewable again while its window lasts.
    frozen_today(deadline + timedelta(days=1))
    renew_again = client.post("/billing/subscriptions/JP-2/renew/")
    assert renew_again["Location"] == "/billing/cart/"


# (e) Issue 4: bulk renew of 7 across 2 CSNs, 2 currencies, 2 purchase methods; 101 refused.


@pytest.fixture
def seven(frozen_today, marie, dupont):
    """7 subscriptions of one purchaser: Paris EUR online ×2 (one monthly anchored on the 31st),
    Paris EUR invoice ×2, Tokyo JPY online ×2, Tokyo EUR online ×1 → 4 groups."""
    frozen_today(date(2027, 2, 1))
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    tokyo = CustomerFactory(csn="5300000002", name="山田設計", country="JP")
    acad = OfferingFactory(code="ACAD", name="AutoCAD")
    for term, currency, list_price, renewal_price in (
        ("annual", "EUR", "2100.00", "1890.00"),
        ("monthly", "EUR", "215.50", "199.99"),
        ("annual", "JPY", "330000", "297000"),
    ):
        PriceFactory(
            offering=acad,
            term=term,
            currency=currency,
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )

    def sub(sub_id, customer, **kw):
        return SubscriptionFactory(
            id=sub_id, customer=customer, offering=acad, purchaser=marie, **kw
        )

    sub("A1", dupont, renewal_date=date(2027, 4, 1), seats=3)
    sub("A2", dupont, term="monthly", start_date=date(2027, 1, 31), renewal_date=date(2027, 2, 28))
    invoice = {"purchase_method": "invoice", "payment_method": "invoice"}
    sub("B1", dupont, renewal_date=date(2027, 3, 15), seats=1, **invoice)
    sub("B2", dupont, renewal_date=date(2027, 3, 20), seats=2, **invoice)
    jpy = {"currency": "JPY", "payment_method": "konbini"}
    sub("C1", tokyo, renewal_date=date(2027, 2, 10), seats=1, **jpy)
    sub("C2", tokyo, renewal_date=date(2027, 1, 20), seats=2, **jpy)
    sub("D1", tokyo, renewal_date=date(2027, 3, 1), seats=4)
    return ["A1", "A2", "B1", "B2", "C1", "C2", "D1"]


def test_bulk_renew_of_seven_shows_four_groups_and_two_paid_groups_send_two_confirmations(
    client, seven, smtp
):
    review = _bulk_post(client, "renew", seven)
    html = review.content.decode()
    assert review.status_code == 200
    groups = {
        "5100000001:EUR:online": ["A1", "A2"],
        "5100000001:EUR:invoice": ["B1", "B2"],
        "5300000002:JPY:online": ["C1", "C2"],
        "5300000002:EUR:online": ["D1"],
    }
    assert sorted(re.findall(r'data-testid="bulk-group-([^"]+)"', html)) == sorted(groups)
    assert sorted(re.findall(r'data-testid="bulk-line-([^"]+)"', html)) == sorted(seven)

    anchors = {"A1": date(2028, 4, 1), "A2": date(2027, 3, 31)}
    for key, ids in (("5100000001:EUR:online", ["A1", "A2"]), ("5300000002:EUR:online", ["D1"])):
        added = client.post(
            "/billing/bulk/checkout/", {"group": key, "subscription_ids": ids, "selection": seven}
        )
        assert added["Location"] == f"/billing/cart/checkout/{key}/"
        paid = _pay_group(client, key, method="card", card="new", card_number=CARD_OK)
        assert paid.status_code == 302 and "/billing/orders/" in paid["Location"]

    orders = list(Order.objects.order_by("pk"))
    assert [(o.status, o.lines.count()) for o in orders] == [("paid", 2), ("paid", 1)]
    assert outbox.deliver_due() == {"sent": 2}
    assert sorted(
        (m["X-Renewals-Event"], m["X-Renewals-Subscriptions"]) for m in smtp.messages
    ) == [("order-confirmation", "A1,A2"), ("order-confirmation", "D1")]
    # The monthly anchored on the 31st renews 28 Feb → 31 Mar, not 28 Mar (R1); A1 keeps the 1st.
    renewed = dict(Subscription.objects.values_list("pk", "renewal_date"))
    assert renewed["A1"] == anchors["A1"]
    assert renewed["A2"] == anchors["A2"]
    assert renewed["D1"] == date(2028, 3, 1)
    assert (renewed["B1"], renewed["C1"]) == (date(2027, 3, 15), date(2027, 2, 10))


def test_bulk_selection_of_101_is_refused_with_a_message_and_nothing_is_added(client, seven):
    ids = seven + [f"X-{n}" for n in range(94)]
    assert len(ids) == 101
    response = _bulk_post(client, "renew", ids)
    assert response.status_code == 302
    assert _messages(response)[-1].startswith(
        "Vous pouvez sélectionner au plus 100 abonnements à la fois\u202f; 101 ont été sélectionnés."
    )
    assert CartLine.objects.count() == 0
    added = client.post("/billing/cart/add/", {"subscription_ids": ids})
    assert added.status_code == 302
    assert _messages(added)[-1].startswith("Un panier contient au plus 100 abonnements.")
    assert CartLine.objects.count() == 0
    assert Email.objects.count() == 0


# (f) Issue 2: an import with four mistakes prints four precise errors and changes nothing.


def test_import_with_four_mistakes_prints_four_errors_and_leaves_the_database_unchanged(tmp_path):
    UserFactory(email="marie@dupont.example")
    CustomerFactory(csn="5100000001", country="FR")
    base = {
        "offering": "ACAD",
        "term": "annual",
        "seats": 3,
        "currency": "EUR",
        "start_date": "2024-03-31",
        "renewal_date": "2027-03-31",
        "auto_renew": False,
        "purchase_method": "online",
        "payment_method": None,
        "purchaser": "marie@dupont.example",
        "partner": None,
        "trial": False,
    }
    data = {
        "format": "renewals/v1",
        "offerings": [{"code": "ACAD", "name": "AutoCAD"}],
        "subscriptions": [
            {**base, "id": "S-1", "csn": "5100000001", "currency": "EURO"},
            {**base, "id": "S-2", "csn": "5999999999"},
            {**base, "id": "S-3", "csn": "5100000001", "seats": -2},
            {**base, "id": "S-4", "csn": "5100000001", "renewal_date": "2027-03-30"},
        ],
    }
    path = tmp_path / "mistakes.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    def counts():
        return [
            m.objects.count()
            for m in (Customer, User, Partner, Offering, Price, TaxRate, Subscription, Term)
        ]

    before = counts()
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import", str(path), stdout=out, stderr=err)
    printed = err.getvalue() + str(refused.value)
    errors = sorted(line for line in err.getvalue().splitlines() if line.startswith("$."))
    assert errors == [
        '$.subscriptions[0].currency: "EURO" is not an ISO 4217 currency',
        '$.subscriptions[1].csn: customer "5999999999" is neither in this file nor in the database',
        "$.subscriptions[2].seats: must be a whole number of at least 1, not -2",
        "$.subscriptions[3].renewal_date: 2027-03-30 is not a whole number of annual terms "
        "after the start date 2024-03-31",
    ]
    assert "4 errors" in printed and "nothing was imported" in printed
    assert counts() == before

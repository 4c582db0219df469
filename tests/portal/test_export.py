"""CSV export of the filtered subscriptions list (R8, R17): all rows, streamed, safe, scoped."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from renewals.portal.views.export import COLUMNS, safe_cell
from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    PriceFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)
from tests.portal.helpers import bulk_subscriptions

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)
URL = "/billing/export/subscriptions.csv"


@pytest.fixture
def buyer(client, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


def _rows(response) -> list[dict]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads é and 日本語 right
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 1 23", "'+33 1 23"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a=b", "a=b"),
        ("Atelier Dupont", "Atelier Dupont"),
        (3, "3"),
        (None, ""),
    ],
)
def test_cells_that_a_spreadsheet_would_evaluate_are_quoted(value, cell):
    assert safe_cell(value) == cell


def test_export_lists_the_columns_with_ids_and_iso_dates(client, buyer):
    customer = CustomerFactory(csn="5100000001", name="Société Générale d'Études", country="FR")
    priced_subscription(
        id="SUB-1",
        purchaser=buyer,
        customer=customer,
        seats=3,
        offering=OfferingFactory(code="ACAD", name="日本語 AutoCAD"),
        renewal_date=date(2027, 3, 31),
    )
    response = client.get(URL)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="subscriptions-2027-03-01.csv"'
    rows = _rows(response)
    assert list(rows[0]) == COLUMNS
    assert rows == [
        {
            "subscription_id": "SUB-1",
            "product_code": "ACAD",
            "product": "日本語 AutoCAD",
            "csn": "5100000001",
            "customer": "Société Générale d'Études",
            "seats": "3",
            "term": "annual",
            "currency": "EUR",
            "purchase_method": "online",
            "payment_method": "card",
            "card_last4": "4242",
            "auto_renew": "no",
            "expiry_date": "2027-03-31",
            "stage": "active",
            "start_date": "2026-03-31",
            "renewal_date": "2027-03-31",
            "renewable": "yes",
            "reasons": "",
            "price_kind": "renewal",
            "renewal_amount": "5670.00",
        }
    ]


def test_formula_injection_in_names_is_neutralised(client, buyer):
    customer = CustomerFactory(csn="5100000001", name="=cmd|' /C calc'!A0", country="FR")
    priced_subscription(
        id="SUB-1",
        purchaser=buyer,
        customer=customer,
        offering=OfferingFactory(code="X1", name="@SUM(1+1)*cmd"),
    )
    row = _rows(client.get(URL))[0]
    assert row["customer"] == "'=cmd|' /C calc'!A0"
    assert row["product"] == "'@SUM(1+1)*cmd"


def test_export_is_scoped_to_visible_subscriptions_and_follows_the_filters(client, buyer):
    priced_subscription(id="MINE-EUR", purchaser=buyer)
    priced_subscription(
        id="MINE-JPY",
        purchaser=buyer,
        currency="JPY",
        payment_method="konbini",
        list_price="330000",
        renewal_price="297000",
    )
    priced_subscription(id="THEIRS")  # another customer's: never exported
    assert [r["subscription_id"] for r in _rows(client.get(URL))] == ["MINE-EUR", "MINE-JPY"]
    jpy = _rows(client.get(URL + "?currency=jpy"))
    assert [(r["subscription_id"], r["renewal_amount"], r["card_last4"]) for r in jpy] == [
        ("MINE-JPY", "891000", "")
    ]
    # A malformed filter is ignored like on the list page, never a 500.
    assert len(_rows(client.get(URL + "?within=soon&stage=nope"))) == 2


def test_an_ineligible_subscription_is_exported_with_its_reasons(client, buyer):
    priced_subscription(id="EARLY", purchaser=buyer, renewal_date=date(2027, 12, 1))
    row = _rows(client.get(URL))[0]
    assert (row["renewable"], row["reasons"], row["stage"]) == ("no", "too_early", "active")


def test_export_needs_a_signed_in_user(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_2000_subscriptions_stream_every_row_in_queries_per_chunk_not_per_row(
    client, buyer, django_assert_num_queries
):
    customer = CustomerFactory(csn="5100000001", name="Crème Brûlée 株式会社", country="FR")
    offering = OfferingFactory(code="BIG", name="Évaluation 日本語")
    PriceFactory(offering=offering, term="annual", currency="EUR")
    bulk_subscriptions(2000, customer=customer, offering=offering, purchaser=buyer, first_d=TODAY)
    # session + user, the rows (one cursor), then prices and open orders for each of 4 chunks.
    with django_assert_num_queries(2 + 1 + 2 * 4):
        rows = _rows(client.get(URL))
    assert len(rows) == 2000
    assert [r["subscription_id"] for r in rows[:2]] == [
        "BULK-000000",
        "BULK-000400",
    ]  # the list order: D, then id
    assert {r["customer"] for r in rows} == {"Crème Brûlée 株式会社"}
    assert {r["product"] for r in rows} == {"Évaluation 日本語"}
    assert len({r["subscription_id"] for r in rows}) == 2000

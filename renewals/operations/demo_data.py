"""The demo data set of `renewals demo`, built relative to the business date.

Every renewal date is an offset from `today`, so each subscription is in the intended stage
(R2) and window (R3) whatever day the demo runs. The data set is an import file
(interfaces.md §3) and goes through the importer, so the demo exercises the same validation
and batch writes as production data.
"""

import json
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .demo_subscriptions import (  # noqa: F401 (bench.import_subscriptions reads them here)
    CARD,
    named_subscriptions,
    reachable_start,
    renewal_date_near,
    subscription,
)

DEMO_PASSWORD = "renewals-demo"
STAFF_EMAIL = "admin@renewals.example"
STAFF_PASSWORD = "renewals-admin"
BULK_COUNT = 2000

OFFERINGS = [
    ("ACAD", "AutoCAD"),
    ("REVIT", "Revit"),
    ("FUSION", "Fusion"),
    ("MAYA", "Maya"),
    ("INVENTOR", "Inventor"),
]
# Per seat: (monthly, annual, three-year) list prices; the renewal price is 10% off (R6).
BASE_PRICES = {
    "ACAD": {
        "EUR": ("250.00", "2100.00", "5670.00"),
        "USD": ("260.00", "2200.00", "5940.00"),
        "JPY": ("30800", "264000", "712800"),
    },
    "REVIT": {
        "EUR": ("330.00", "2800.00", "7560.00"),
        "USD": ("350.00", "2990.00", "8070.00"),
        "JPY": ("42900", "363000", "980100"),
    },
    "FUSION": {
        "EUR": ("70.00", "580.00", "1566.00"),
        "USD": ("75.00", "620.00", "1674.00"),
        "JPY": ("8800", "52800", "142560"),
    },
    "MAYA": {
        "EUR": ("290.00", "2460.00", "6642.00"),
        "USD": ("300.00", "2545.00", "6871.00"),
        "JPY": ("38500", "330000", "891000"),
    },
    "INVENTOR": {
        "EUR": ("300.00", "2550.00", "6885.00"),
        "USD": ("315.00", "2675.00", "7222.00"),
        "JPY": ("39600", "336600", "908820"),
    },
}
TERMS = ("monthly", "annual", "three_year")

USERS = [
    # email, name, language, admin of
    ("marie@dupont.example", "Marie Dupont", "fr", ["5100000001"]),
    ("claire@dupont.example", "Claire Dupont", "fr", ["5100000001", "5100000002"]),
    ("yamada@yamada-sekkei.example", "山田 太郎", "ja", ["5200000001"]),
    ("john@acme.example", "John Smith", "en", ["5300000001"]),
    ("anna@mueller-ingenieure.example", "Anna Müller", "en", ["5400000001"]),
    ("ops@globex.example", "Globex Operations", "en", ["5900000001"]),
]
CUSTOMERS = [
    {"csn": "5100000001", "name": "Atelier Dupont", "country": "FR", "vat_id": "FR32123456789"},
    {"csn": "5100000002", "name": "Dupont Architecture", "country": "FR", "vat_id": None},
    {"csn": "5200000001", "name": "山田設計株式会社", "country": "JP", "vat_id": None},
    {"csn": "5300000001", "name": "Acme Design Inc.", "country": "US", "vat_id": None},
    # A validated VAT id in another EU country than the seller's: reverse charge (R6).
    {
        "csn": "5400000001",
        "name": "Müller Ingenieure GmbH",
        "country": "DE",
        "vat_id": "DE123456789",
        "vat_id_validated": True,
    },
    {"csn": "5900000001", "name": "Globex Corporation", "country": "US", "vat_id": None},
]


def prices() -> list[dict]:
    rows = []
    for code, by_currency in BASE_PRICES.items():
        for currency, amounts in by_currency.items():
            for term, amount in zip(TERMS, amounts, strict=True):
                rows.append(
                    {
                        "offering": code,
                        "term": term,
                        "currency": currency,
                        "list_price": amount,
                        "renewal_price": renewal_price_of(amount),
                    }
                )
    return rows


def renewal_price_of(list_price: str) -> str:
    """Return 90% of a list price, half-up to the same number of decimals."""
    value = Decimal(list_price)
    return str(
        (value * Decimal("0.9")).quantize(
            Decimal(1).scaleb(value.as_tuple().exponent), ROUND_HALF_UP
        )
    )


def build(today: date) -> dict:
    """Return the demo data set as an import file for the business date `today`."""
    globex, big = USERS[5][0], CUSTOMERS[5]["csn"]
    s = subscription
    subs = named_subscriptions(today, users=USERS, customers=CUSTOMERS)
    # One large account (R17: lists stay fast with thousands of rows), spread over every stage.
    for n in range(BULK_COUNT):
        term = TERMS[n % 3]
        subs.append(
            s(
                f"SUB-GX-{n + 1:05d}",
                today,
                (n * 7) % 480 - 80,
                csn=big,
                purchaser=globex,
                offering=OFFERINGS[n % len(OFFERINGS)][0],
                term=term,
                seats=1 + n % 25,
                currency="USD",
                auto_renew=n % 4 == 0,
            )
        )
    return {
        "format": "renewals/v1",
        "tax_rates": [
            {"country": "FR", "rate": "0.20", "label": "TVA"},
            {"country": "DE", "rate": "0.19", "label": "MwSt."},
            {"country": "JP", "rate": "0.10", "label": "消費税"},
            {"country": "US", "rate": "0.00", "label": "Sales tax"},
        ],
        "offerings": [{"code": c, "name": n} for c, n in OFFERINGS],
        "prices": prices(),
        "partners": [
            {
                "id": "P-1",
                "name": "CAD Partners SARL",
                "email": "renew@cadpartners.example",
                "phone": "+33 1 23 45 67 89",
            }
        ],
        "customers": CUSTOMERS,
        "users": [
            {"email": e, "name": n, "language": lang, "password": DEMO_PASSWORD, "admin_of": csns}
            for e, n, lang, csns in USERS
        ],
        "subscriptions": subs,
    }


def demo_file(today: date) -> bytes:
    return json.dumps(build(today), ensure_ascii=False).encode()


def logins() -> list[tuple[str, str, str]]:
    """Return (email, password, who) for every demo login, staff last."""
    rows = [(e, DEMO_PASSWORD, n) for e, n, _lang, _c in USERS]
    rows.append((STAFF_EMAIL, STAFF_PASSWORD, "staff: /admin/"))
    return rows

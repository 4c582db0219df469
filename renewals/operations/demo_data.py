"""The demo data set of `renewals demo`, built relative to the business date.

Every renewal date is an offset from `today`, so each subscription is in the intended stage
(R2) and window (R3) whatever day the demo runs. The data set is an import file
(interfaces.md §3) and goes through the importer, so the demo exercises the same validation
and batch writes as production data.
"""

import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from renewals.subscriptions import periods

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
CARD = {"type": "card", "token": "pm_sandbox_4242424242424242"}
DECLINING_CARD = {"type": "card", "token": "pm_sandbox_4000000000000002"}
THREE_DS_CARD = {"type": "card", "token": "pm_sandbox_4000000000003220"}


def reachable_start(renewal_date: date, term: str, terms_back: int = 1) -> date:
    """Return a start date from which R1 reaches `renewal_date` in about `terms_back` terms."""
    months = periods.term_months(term)
    for back in range(terms_back, terms_back + 12):
        start = periods.add_months(renewal_date, -months * back, renewal_date.day)
        if periods.terms_between(start, renewal_date, term) is not None:
            return start
    raise ValueError(f"no start date reaches {renewal_date} by {term} terms")


def renewal_date_near(day: date, term: str) -> date:
    """Return `day`, or the nearest earlier day that some anchored start date can reach."""
    for shift in range(4):
        candidate = day - timedelta(days=shift)
        try:
            reachable_start(candidate, term)
            return candidate
        except ValueError:
            continue
    raise ValueError(f"no renewal date near {day}")


def subscription(
    sub_id,
    today,
    days,
    *,
    csn,
    purchaser,
    offering="ACAD",
    term="annual",
    seats=3,
    currency="EUR",
    payment=CARD,
    purchase_method="online",
    auto_renew=False,
    partner=None,
    trial=False,
    terms_back=1,
):
    renewal = renewal_date_near(today + timedelta(days=days), term)
    return {
        "id": sub_id,
        "csn": csn,
        "offering": offering,
        "term": term,
        "seats": seats,
        "currency": currency,
        "start_date": reachable_start(renewal, term, terms_back).isoformat(),
        "renewal_date": renewal.isoformat(),
        "auto_renew": auto_renew,
        "purchase_method": purchase_method,
        "payment_method": payment,
        "purchaser": purchaser,
        "partner": partner,
        "trial": trial,
    }


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
    marie, claire, yamada, john = (u[0] for u in USERS[:4])
    anna, globex = USERS[4][0], USERS[5][0]
    fr, fr2, jp, us, de, big = (c["csn"] for c in CUSTOMERS)
    s = subscription
    subs = [
        # The French purchaser: renewal in 60 days pays the special renewal price with 20% VAT;
        # the one 10 days past D is expired and pays the list price (R6).
        s("SUB-FR-1001", today, 60, csn=fr, purchaser=marie, seats=3, terms_back=2),
        s("SUB-FR-1002", today, -10, csn=fr, purchaser=marie, offering="REVIT", seats=2),
        s(
            "SUB-FR-1003",
            today,
            20,
            csn=fr,
            purchaser=marie,
            offering="FUSION",
            term="monthly",
            seats=5,
            auto_renew=True,
            terms_back=6,
        ),
        s("SUB-FR-1004", today, 200, csn=fr, purchaser=marie, offering="MAYA", seats=1),
        s(
            "SUB-FR-1005",
            today,
            300,
            csn=fr,
            purchaser=marie,
            offering="INVENTOR",
            term="three_year",
            seats=4,
            auto_renew=True,
        ),
        s("SUB-FR-1006", today, -25, csn=fr, purchaser=marie, offering="ACAD", seats=1),
        s("SUB-FR-1007", today, -70, csn=fr, purchaser=marie, offering="REVIT", seats=1),
        s(
            "SUB-FR-1008",
            today,
            12,
            csn=fr,
            purchaser=marie,
            offering="MAYA",
            seats=1,
            trial=True,
            payment=None,
        ),
        s(
            "SUB-FR-1009",
            today,
            -3,
            csn=fr,
            purchaser=marie,
            offering="FUSION",
            term="monthly",
            seats=1,
            trial=True,
            payment=None,
        ),
        # Partner-managed subscriptions of the second CSN; Claire is admin of both CSNs.
        s(
            "SUB-FR-2001",
            today,
            45,
            csn=fr2,
            purchaser=claire,
            offering="REVIT",
            purchase_method="partner",
            partner="P-1",
            payment=None,
        ),
        s("SUB-FR-2002", today, 75, csn=fr2, purchaser=claire, offering="ACAD", seats=2),
        s(
            "SUB-FR-2003",
            today,
            30,
            csn=fr2,
            purchaser=marie,
            offering="FUSION",
            seats=6,
            payment=THREE_DS_CARD,
        ),
        # The Japanese purchaser pays yen at the konbini or by bank transfer (R9).
        s(
            "SUB-JP-3001",
            today,
            25,
            csn=jp,
            purchaser=yamada,
            offering="FUSION",
            currency="JPY",
            seats=2,
            payment={"type": "konbini"},
        ),
        s(
            "SUB-JP-3002",
            today,
            80,
            csn=jp,
            purchaser=yamada,
            offering="ACAD",
            currency="JPY",
            seats=1,
            payment={"type": "konbini"},
        ),
        s(
            "SUB-JP-3003",
            today,
            5,
            csn=jp,
            purchaser=yamada,
            offering="REVIT",
            currency="JPY",
            term="monthly",
            seats=3,
            payment={"type": "bank_transfer"},
        ),
        s(
            "SUB-JP-3004",
            today,
            -8,
            csn=jp,
            purchaser=yamada,
            offering="MAYA",
            currency="JPY",
            seats=1,
            payment={"type": "bank_transfer"},
        ),
        s(
            "SUB-JP-3005",
            today,
            -18,
            csn=jp,
            purchaser=yamada,
            offering="INVENTOR",
            currency="JPY",
            term="monthly",
            seats=1,
            payment={"type": "konbini"},
        ),
        s(
            "SUB-JP-3006",
            today,
            150,
            csn=jp,
            purchaser=yamada,
            offering="ACAD",
            currency="JPY",
            term="three_year",
            seats=2,
            payment=CARD,
            auto_renew=True,
        ),
        # The US customer: cards with auto-renew (one that declines) and invoice terms.
        s(
            "SUB-US-4001",
            today,
            15,
            csn=us,
            purchaser=john,
            offering="ACAD",
            currency="USD",
            seats=10,
            auto_renew=True,
        ),
        s(
            "SUB-US-4002",
            today,
            2,
            csn=us,
            purchaser=john,
            offering="REVIT",
            currency="USD",
            seats=2,
            auto_renew=True,
            payment=DECLINING_CARD,
        ),
        s(
            "SUB-US-4003",
            today,
            40,
            csn=us,
            purchaser=john,
            offering="MAYA",
            currency="USD",
            seats=3,
            purchase_method="invoice",
            payment={"type": "invoice"},
        ),
        s(
            "SUB-US-4004",
            today,
            90,
            csn=us,
            purchaser=john,
            offering="FUSION",
            currency="USD",
            seats=8,
            purchase_method="invoice",
            payment={"type": "invoice"},
            auto_renew=True,
        ),
        s(
            "SUB-US-4005",
            today,
            -35,
            csn=us,
            purchaser=john,
            offering="INVENTOR",
            currency="USD",
            term="monthly",
            seats=1,
        ),
        s(
            "SUB-US-4006",
            today,
            -50,
            csn=us,
            purchaser=john,
            offering="ACAD",
            currency="USD",
            seats=1,
        ),
        # Reverse charge in Germany.
        s("SUB-DE-5001", today, 55, csn=de, purchaser=anna, offering="INVENTOR", seats=4),
        s(
            "SUB-DE-5002",
            today,
            -12,
            csn=de,
            purchaser=anna,
            offering="ACAD",
            term="monthly",
            seats=2,
        ),
    ]
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

"""The hand-written subscriptions of the demo data set (`demo_data`), one per case to show.

Each renewal date is an offset in days from the business date, moved to a day an anchored start
date reaches (R1), so each subscription is in its intended stage (R2) and window (R3).
"""

from datetime import date, timedelta

from renewals.subscriptions import periods

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


def named_subscriptions(today: date, *, users, customers) -> list[dict]:
    """Return the demo's named subscriptions (FR, JP, US, DE), for the demo's users and CSNs."""
    marie, claire, yamada, john = (u[0] for u in users[:4])
    anna = users[4][0]
    fr, fr2, jp, us, de, _big = (c["csn"] for c in customers)
    s = subscription
    return [
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

"""The daily run benchmark's data (bench/daily_run.py): people, catalogue and subscription rows.

`generate` yields the subscription rows for COPY: a fixed number due on each date that matters
for the run date DATE (D−90, D−45, D−30, D−4 ahead; lapse dates 0, 15, 30 and 45 days back;
card auto-renewals charged on D), the rest spread over ±400 days, PURCHASERS purchasers with
one customer and one saved card each. `due_step` is what the generator made a row due for, so
the baseline by hand (bench/daily_baseline.py) need not decide it. Also read by
bench/scale_out.py.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from bench.common import reset_sequences

DATE = date(2026, 9, 1)
AHEAD = (90, 45, 30, 4)  # notices counted back from D
BACK = (0, 15, 45)  # stage notices of annual subscriptions, from the lapse date
MONTHLY_BACK = 30  # the cancellation of monthly subscriptions
PURCHASERS = 1000


def generate(total: int, due_per_date: int, charges: int, seed: int = 7):
    """Yield subscription rows: `due_per_date` on each date that matters, the rest not due."""
    rng = random.Random(seed)
    special = {DATE + timedelta(days=n) for n in AHEAD} | {
        DATE - timedelta(days=n) for n in (*BACK, MONTHLY_BACK)
    }
    ordinary = [
        DATE + timedelta(days=n)
        for n in range(-400, 401)
        if DATE + timedelta(days=n) not in special and not -46 <= n <= 0
    ]
    n = 0

    def row(renewal: date, term: str = "annual", auto: bool = False):
        nonlocal n
        n += 1
        months = 1 if term == "monthly" else 12
        index = renewal.year * 12 + renewal.month - 1 - months
        start = date(index // 12, index % 12 + 1, min(renewal.day, 28))
        renewal = renewal if renewal.day <= 28 else renewal.replace(day=28)
        purchaser = 1 + n % PURCHASERS
        return (
            f"B-{n:08d}",
            purchaser,  # customer id = purchaser id (one customer each)
            1,
            term,
            1 + n % 20,
            "EUR",
            start,
            renewal,
            renewal,
            auto,
            "online",
            "card",
            purchaser,  # card id = purchaser id
            purchaser,
            None,
            False,
            "2026-01-01T00:00:00Z",
        )

    for days in AHEAD:
        for _ in range(due_per_date):
            yield row(DATE + timedelta(days=days))
    for days in BACK:
        for _ in range(due_per_date):
            yield row(DATE - timedelta(days=days))
    for _ in range(due_per_date):
        yield row(DATE - timedelta(days=MONTHLY_BACK), term="monthly")
    for _ in range(charges):
        yield row(DATE, auto=True)
    for _ in range(total - n):
        yield row(rng.choice(ordinary))


COLUMNS = [
    "id",
    "customer_id",
    "offering_id",
    "term",
    "seats",
    "currency",
    "start_date",
    "renewal_date",
    "lapse_date",
    "auto_renew",
    "purchase_method",
    "payment_method",
    "card_id",
    "purchaser_id",
    "partner_id",
    "trial",
    "updated",
]

RAW_DUE_SQL = """
SELECT purchaser_id, id FROM subscriptions_subscription
WHERE renewal_date = ANY(%(ahead)s) OR lapse_date = ANY(%(back)s)
   OR (auto_renew AND NOT trial AND purchase_method IN ('online', 'invoice')
       AND renewal_date BETWEEN %(charge_from)s AND %(today)s)
ORDER BY purchaser_id, id
"""


def people():
    from renewals.accounts.models import Card, Customer, User
    from renewals.catalog.models import Offering, Price, TaxRate

    User.objects.bulk_create(
        User(pk=i, email=f"buyer{i}@bench.example", language=("en", "fr", "ja")[i % 3])
        for i in range(1, PURCHASERS + 1)
    )
    Customer.objects.bulk_create(
        Customer(pk=i, csn=f"{7000000000 + i}", name=f"Customer {i}", country="FR")
        for i in range(1, PURCHASERS + 1)
    )
    Card.objects.bulk_create(
        Card(pk=i, user_id=i, token="pm_sandbox_4242424242424242", last4="4242")
        for i in range(1, PURCHASERS + 1)
    )
    offering = Offering.objects.create(pk=1, code="ACAD", name="AutoCAD")
    for term in ("monthly", "annual"):
        Price.objects.create(
            offering=offering,
            term=term,
            currency="EUR",
            list_price=Decimal("2100.00"),
            renewal_price=Decimal("1890.00"),
        )
    TaxRate.objects.create(country="FR", rate=Decimal("0.20"))
    reset_sequences(User, Customer, Card, Offering)


KINDS_AHEAD = {90: "renewal-available", 45: "renewal-reminder@D-45",
               30: "renewal-reminder@D-30", 4: "renewal-reminder@D-4"}  # fmt: skip
KINDS_BACK = {0: "subscription-expired", 15: "subscription-suspended"}
DIGEST_LINE = "AutoCAD — B-00000000 — 12 seats — renews on 1 September 2026 — 22,680.00 €\n"


def due_step(renewal: date, lapse: date, term: str) -> str | None:
    """The notice the generator made this row due for (the bench knows its own data)."""
    for days, step in KINDS_AHEAD.items():
        if renewal == DATE + timedelta(days=days):
            return step
    back = (DATE - lapse).days
    if back in KINDS_BACK:
        return KINDS_BACK[back]
    if (term == "monthly" and back == MONTHLY_BACK) or (term == "annual" and back == 45):
        return "subscription-cancelled"
    return None

"""The figures of the staff dashboard (R23), each one aggregate query on indexed columns.

Every function takes the business day and returns plain values (no model instances), so the
view only lays them out. A fixed number of queries whatever the size of the book: grouping is
done by the database, prices are applied to the few (currency, offering, term) groups.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When

from renewals.billing.models import Invoice
from renewals.checkout.offers import active_prices
from renewals.core.money import Money, money
from renewals.lifecycle.models import ChargeAttempt
from renewals.payments.models import Payment
from renewals.subscriptions.models import Subscription, Term

HORIZONS = (30, 60, 90)
PENDING_PAYMENT_STATUSES = ("pending", "partially_funded", "confirming", "requires_action")
LAPSE_REASONS = ("declined", "no_action", "partner", "invoice_overdue")


@dataclass
class Due:
    """Subscriptions renewing within each horizon, per currency: how many and their value."""

    currency: str
    counts: dict[int, int] = field(default_factory=dict)
    values: dict[int, Money] = field(default_factory=dict)
    unpriced: int = 0


def month_start(today: date) -> date:
    return today.replace(day=1)


def due_by_currency(today: date) -> list[Due]:
    """Return, per currency, the subscriptions with D in (today, today + 30/60/90] and their
    value at the renewal price (seats × unit price; those without an active price counted
    apart). Trials are excluded: they do not renew (R3)."""
    bucket = Case(
        *[
            When(renewal_date__lte=today + timedelta(days=days), then=Value(days))
            for days in HORIZONS
        ],
        output_field=IntegerField(),
    )
    rows = (
        Subscription.objects.filter(
            renewal_date__gt=today,
            renewal_date__lte=today + timedelta(days=HORIZONS[-1]),
            trial=False,
        )
        .annotate(bucket=bucket)
        .values("currency", "offering_id", "term", "bucket")
        .annotate(n=Count("pk"), seats=Sum("seats"))
    )
    rows = list(rows)
    prices = active_prices([_Combo(r["offering_id"], r["term"], r["currency"]) for r in rows])
    by_currency: dict[str, Due] = {}
    for r in rows:
        due = by_currency.setdefault(r["currency"], Due(r["currency"]))
        price = prices.get((r["offering_id"], r["term"], r["currency"]))
        for days in HORIZONS:
            if r["bucket"] > days:
                continue
            due.counts[days] = due.counts.get(days, 0) + r["n"]
            if price is None:
                continue
            value = money(price.renewal_price * r["seats"], r["currency"])
            due.values[days] = due.values.get(days, money(0, r["currency"])) + value
        if price is None:
            due.unpriced += r["n"]
    for due in by_currency.values():
        for days in HORIZONS:
            due.counts.setdefault(days, 0)
            due.values.setdefault(days, money(0, due.currency))
    return [by_currency[c] for c in sorted(by_currency)]


@dataclass(frozen=True)
class _Combo:
    offering_id: int
    term: str
    currency: str


def lapsed_this_month_queryset(today: date):
    """Return the subscriptions whose expiry process started this month and that have not been
    renewed since, annotated with why: card declined, no action, partner-managed, invoice
    overdue."""
    failed_charge = ChargeAttempt.objects.filter(
        subscription_id=OuterRef("pk"), term_start=OuterRef("renewal_date"), status="failed"
    )
    reason = Case(
        When(purchase_method="partner", then=Value("partner")),
        When(lapse_date__lt=F("renewal_date"), then=Value("invoice_overdue")),
        When(Exists(failed_charge), then=Value("declined")),
        default=Value("no_action"),
    )
    return Subscription.objects.filter(
        lapse_date__gte=month_start(today), lapse_date__lte=today, trial=False
    ).annotate(reason=reason)


def lapsed_this_month(today: date) -> dict[str, int]:
    """Return how many subscriptions lapsed this month for each reason (LAPSE_REASONS)."""
    rows = lapsed_this_month_queryset(today).values("reason").annotate(n=Count("pk"))
    counts = {r: 0 for r in LAPSE_REASONS}
    counts.update({r["reason"]: r["n"] for r in rows})
    return counts


RENEWAL_SOURCES = ("order", "auto_renewal")


def renewed_this_month_queryset(today: date):
    """Return the terms paid for that started this month up to today: the renewals of the
    subscriptions whose D fell this month (imported terms are not renewals)."""
    return Term.objects.filter(
        start__gte=month_start(today), start__lte=today, source__in=RENEWAL_SOURCES
    )


def renewed_this_month(today: date) -> int:
    """Return how many subscriptions whose D fell this month (up to today) were renewed."""
    return renewed_this_month_queryset(today).count()


def auto_renew_share(today: date) -> dict:
    """Return the active, non-trial subscriptions with auto-renew on among all of them, and this
    month's automatic charges: attempted and failed (R12)."""
    active = Subscription.objects.filter(lapse_date__gt=today, trial=False).aggregate(
        total=Count("pk"), auto=Count("pk", filter=Q(auto_renew=True))
    )
    charges = ChargeAttempt.objects.filter(business_date__gte=month_start(today)).aggregate(
        total=Count("pk"), failed=Count("pk", filter=Q(status="failed"))
    )
    return {
        "active": active["total"],
        "auto": active["auto"],
        "share": _ratio(active["auto"], active["total"]),
        "charges": charges["total"],
        "charges_failed": charges["failed"],
        "failure_rate": _ratio(charges["failed"], charges["total"]),
    }


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def money_by_currency(rows) -> list[dict]:
    totals: dict[str, dict] = defaultdict(lambda: {"count": 0, "amount": Decimal(0)})
    for row in rows:
        totals[row["currency"]]["count"] += row["n"]
        totals[row["currency"]]["amount"] += row["amount"] or Decimal(0)
    return [
        {"currency": c, "count": t["count"], "amount": money(t["amount"], c)}
        for c, t in sorted(totals.items())
    ]


def pending_payments() -> list[dict]:
    """Return the payments waiting for money (konbini, transfer, 3-D Secure, being confirmed)."""
    rows = (
        Payment.objects.filter(status__in=PENDING_PAYMENT_STATUSES)
        .values("currency")
        .annotate(n=Count("pk"), amount=Sum("amount"))
    )
    return money_by_currency(rows)


def overdue_invoices() -> list[dict]:
    """Return the unpaid invoices past their due date (R9), per currency."""
    rows = (
        Invoice.objects.filter(
            Q(status="overdue") | Q(status="unpaid", overdue_since__isnull=False)
        )
        .values("currency")
        .annotate(n=Count("pk"), amount=Sum("total"))
    )
    return money_by_currency(rows)

"""Portal page: Summary — alerts and what is due in the next 90 days (R17)."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.urls import path

from renewals.checkout.models import Order
from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.money import zero
from renewals.subscriptions import rules
from renewals.subscriptions.models import Subscription

ALERT_ROWS = 10
PAYMENT_ERROR_DAYS = 30
UPCOMING_DAYS = 30
DUE_DAYS = 90
# Only the fields an offer needs: the due list may hold thousands of rows.
OFFER_FIELDS = (
    "id",
    "offering_id",
    "term",
    "currency",
    "seats",
    "start_date",
    "renewal_date",
    "lapse_date",
    "purchase_method",
    "purchaser_id",
    "trial",
)


@login_required
def summary(request):
    """Show the user's alerts and the renewals due in the next 90 days, per currency."""
    today = clock.today()
    user = request.user
    visible = Subscription.objects.visible_to(user).filter(trial=False)
    listed = visible.select_related("offering", "customer").order_by("lapse_date", "id")

    failed_orders = list(
        Order.objects.filter(
            Q(placed_by=user) | Q(automatic=True, lines__subscription__purchaser=user),
            status="failed",
            business_date__gte=today - timedelta(days=PAYMENT_ERROR_DAYS),
        )
        .select_related("payment")
        .distinct()
        .order_by("-business_date", "-id")[:ALERT_ROWS]
    )
    # R12 charges a saved card: an auto-renewing online subscription without one will lapse.
    missing_card = (
        listed.filter(auto_renew=True, purchase_method="online")
        .filter(Q(card__isnull=True) | Q(card__removed__isnull=False))
        .exclude(pk__in=visible.in_stage(rules.CANCELLED, today).values("pk"))
    )
    missing_card_rows = list(missing_card[:ALERT_ROWS])

    last_chance = listed.in_stage(rules.EXPIRED, today) | listed.in_stage(rules.SUSPENDED, today)
    last_chance_rows = [
        {
            "sub": sub,
            "stage": sub.stage_on(today),
            "cancels_on": rules.stage_dates(sub.lapse_date, sub.term, trial=False)[rules.CANCELLED],
        }
        for sub in last_chance[:ALERT_ROWS]
    ]
    for row in last_chance_rows:
        row["days_left"] = (row["cancels_on"] - today).days

    # Upcoming expirations: still active, D within 30 days, and nothing will renew them (R12).
    manual = Q(auto_renew=False) | ~Q(payment_method="card") | Q(card__isnull=True)
    upcoming = listed.filter(
        manual,
        lapse_date__gt=today,
        renewal_date__lte=today + timedelta(days=UPCOMING_DAYS),
    )
    upcoming_rows = list(upcoming[:ALERT_ROWS])

    due_subs = list(
        visible.in_stage(rules.ACTIVE, today)
        .filter(renewal_date__lte=today + timedelta(days=DUE_DAYS))
        .only(*OFFER_FIELDS)
    )
    offers = renewal_offers(due_subs, user=user, today=today)
    due = {}
    for offer in offers.values():
        if offer.price is None:
            continue
        code = offer.price.currency.code
        entry = due.setdefault(code, {"currency": code, "total": zero(code), "count": 0})
        entry["total"] += offer.price
        entry["count"] += 1

    return render(
        request,
        "portal/summary.html",
        {
            "nav": "summary",
            "today": today,
            "failed_orders": failed_orders,
            "missing_card": missing_card_rows,
            "missing_card_count": missing_card.count(),
            "last_chance": last_chance_rows,
            "last_chance_count": last_chance.count(),
            "upcoming": upcoming_rows,
            "upcoming_count": upcoming.count(),
            "due": sorted(due.values(), key=lambda e: e["currency"]),
            "due_count": len(due_subs),
            "due_days": DUE_DAYS,
            "upcoming_days": UPCOMING_DAYS,
        },
    )


urls = [path("", summary, name="summary")]

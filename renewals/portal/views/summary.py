"""Portal page: Summary — alerts and what is due in the next 90 days (R17)."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, F, OuterRef, Q
from django.shortcuts import render
from django.urls import path

from renewals.billing.queries import overdue_invoices_visible_to
from renewals.checkout.models import Order, OrderLine
from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.money import zero
from renewals.portal.filters import apply_filters, parse_filters
from renewals.subscriptions import rules
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.queries import waiting_for_a_card

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
    "scheduled_change",  # R21: the next term's price follows a scheduled change
)


DUE_LINK = {"stage": rules.ACTIVE, "within": DUE_DAYS, "trial": "no"}


def _listed(user, params: dict, today):
    """The subscriptions the list shows for these link parameters (the list's own filters)."""
    values = parse_filters({k: str(v) for k, v in params.items()}).cleaned_data
    return apply_filters(Subscription.objects.visible_to(user), values, today=today, user=user)


@login_required
def summary(request):
    """Show the user's alerts and the renewals due in the next 90 days, per currency."""
    today = clock.today()
    user = request.user
    visible = Subscription.objects.visible_to(user).filter(trial=False)
    listed = visible.select_related("offering", "customer").order_by("lapse_date", "id")

    overdue_invoices = list(overdue_invoices_visible_to(user)[:ALERT_ROWS])
    unbought = OrderLine.objects.filter(
        order_id=OuterRef("pk"), term_start=F("subscription__renewal_date")
    )
    failed_orders = list(
        Order.objects.filter(
            Q(placed_by=user) | Q(automatic=True, lines__subscription__purchaser=user),
            status="failed",
            business_date__gte=today - timedelta(days=PAYMENT_ERROR_DAYS),
        )
        # Only while a term it tried to buy is still unbought: a later order may have paid it.
        .exclude(Exists(OrderLine.objects.filter(order_id=OuterRef("pk"))) & ~Exists(unbought))
        .select_related("payment")
        .distinct()
        .order_by("-business_date", "-id")[:ALERT_ROWS]
    )
    # R12 charges a saved card: an auto-renewing online subscription without one will lapse.
    # The same "renews automatically" query as the daily run's (subscriptions/queries.py).
    missing_card = waiting_for_a_card(listed).exclude(
        pk__in=visible.in_stage(rules.CANCELLED, today).values("pk")
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
    # Each count below is the count of the list its link opens: the same filters (#17).
    upcoming_link = {"stage": rules.ACTIVE, "within": UPCOMING_DAYS, "renews": "manual"}
    upcoming = _listed(user, upcoming_link, today).select_related("offering")
    upcoming_rows = list(upcoming[:ALERT_ROWS])

    due_subs = list(_listed(user, DUE_LINK, today).only(*OFFER_FIELDS))
    offers = renewal_offers(due_subs, user=user, today=today)
    due = {}
    for sub in due_subs:
        entry = due.setdefault(
            sub.currency,
            {
                "currency": sub.currency,
                "total": zero(sub.currency),
                "count": 0,
                "unpriced": 0,
                "link": {**DUE_LINK, "currency": sub.currency},
            },
        )
        entry["count"] += 1
        price = offers[sub.pk].price
        if price is None:
            entry["unpriced"] += 1
        else:
            entry["total"] += price

    return render(
        request,
        "portal/summary.html",
        {
            "nav": "summary",
            "today": today,
            "failed_orders": failed_orders,
            "overdue_invoices": overdue_invoices,
            "missing_card": missing_card_rows,
            "missing_card_count": missing_card.count(),
            "last_chance": last_chance_rows,
            "expired_count": _listed(user, {"stage": rules.EXPIRED}, today).count(),
            "suspended_count": _listed(user, {"stage": rules.SUSPENDED}, today).count(),
            "upcoming": upcoming_rows,
            "upcoming_count": upcoming.count(),
            "upcoming_link": upcoming_link,
            "due": sorted(due.values(), key=lambda e: e["currency"]),
            "due_count": len(due_subs),
            "due_days": DUE_DAYS,
            "upcoming_days": UPCOMING_DAYS,
        },
    )


urls = [path("", summary, name="summary")]

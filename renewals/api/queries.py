"""Reads of the API: the caller's subscriptions, filtered, searched and ordered in SQL."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q

from renewals.catalog.models import Price
from renewals.checkout.models import OPEN_STATUSES, OrderLine
from renewals.subscriptions import rules
from renewals.subscriptions.models import Subscription

ORDERINGS = {
    "renewal_date": ("renewal_date", "id"),
    "-renewal_date": ("-renewal_date", "-id"),
    "id": ("id",),
    "product": ("offering__name", "offering__code", "id"),
}


@dataclass(frozen=True)
class SubscriptionFilters:
    stage: str | None = None
    csn: str | None = None
    product: str | None = None
    term: str | None = None
    auto_renew: bool | None = None
    renewable: bool | None = None
    renewal_date_before: date | None = None
    renewal_date_after: date | None = None
    q: str | None = None
    ordering: str = "renewal_date"


def renewable_q(user, today: date) -> Q:
    """Return the SQL form of R5's "eligible" for `user` on `today`, so that lists can page it.

    It mirrors `rules.renewal_eligibility` condition by condition (purchaser, not partner, not a
    trial, not cancelled, window open, no order holding the next term, an active price); a test
    checks both agree on every reason.
    """
    sellable = Price.objects.filter(
        offering_id=OuterRef("offering_id"),
        term=OuterRef("term"),
        currency=OuterRef("currency"),
        active=True,
    )
    pending = OrderLine.objects.filter(
        subscription_id=OuterRef("pk"),
        term_start=OuterRef("renewal_date"),
        holds_term=True,
        order__status__in=OPEN_STATUSES,
    )
    cancelled = Subscription.objects.in_stage(rules.CANCELLED, today).values("pk")
    return (
        Q(purchaser_id=user.pk, trial=False)
        & ~Q(purchase_method="partner")
        & Q(renewal_date__lte=today + timedelta(days=rules.WINDOW_OPENS_DAYS))
        & ~Q(pk__in=cancelled)
        & Q(Exists(sellable))
        & ~Q(Exists(pending))
    )


def subscriptions_for(user, filters: SubscriptionFilters, *, today: date):
    """Return the subscriptions `user` may see, filtered and ordered, ready for a page of JSON."""
    qs = Subscription.objects.visible_to(user)
    f = filters
    if f.stage:
        qs = qs.in_stage(f.stage, today)
    if f.csn:
        qs = qs.filter(customer__csn=f.csn)
    if f.product:
        qs = qs.filter(offering__code=f.product)
    if f.term:
        qs = qs.filter(term=f.term)
    if f.auto_renew is not None:
        qs = qs.filter(auto_renew=f.auto_renew)
    if f.renewal_date_before:
        qs = qs.filter(renewal_date__lte=f.renewal_date_before)
    if f.renewal_date_after:
        qs = qs.filter(renewal_date__gte=f.renewal_date_after)
    if f.renewable is not None:
        match = renewable_q(user, today)
        qs = qs.filter(match) if f.renewable else qs.exclude(match)
    if f.q and f.q.strip():
        term = f.q.strip()
        qs = qs.filter(
            Q(id__icontains=term)
            | Q(customer__csn__icontains=term)
            | Q(customer__name__icontains=term)
            | Q(offering__code__icontains=term)
            | Q(offering__name__icontains=term)
        )
    return qs.order_by(*ORDERINGS[f.ordering])


def with_json_relations(qs):
    """Load what `shapes.subscription_json` reads, in a fixed number of queries."""
    return qs.select_related(
        "customer", "offering", "purchaser", "partner", "card"
    ).prefetch_related("terms")

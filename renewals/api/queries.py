"""Reads of the API: the caller's subscriptions, filtered, searched and ordered in SQL."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q

from renewals.accounts.models import Card, Customer, Partner, User
from renewals.catalog.models import Offering, Price
from renewals.checkout.models import OPEN_STATUSES, OrderLine
from renewals.subscriptions import rules
from renewals.subscriptions.models import Subscription, Term

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


class TermRow(NamedTuple):
    start: date
    end: date
    order_number: str


def _attach(subs, field_name: str, model, **only) -> None:
    field = Subscription._meta.get_field(field_name)
    ids = {getattr(s, field.attname) for s in subs} - {None}
    objects = model.objects.only(*only["fields"]).in_bulk(ids) if ids else {}
    for sub in subs:
        value = getattr(sub, field.attname)
        field.set_cached_value(sub, objects.get(value) if value is not None else None)


def load_for_json(qs) -> tuple[list[Subscription], dict[str, list[TermRow]]]:
    """Fetch a page of subscriptions with what their JSON needs; return them and their terms.

    A page shares few customers, offerings, purchasers, partners and cards: fetching each once
    by id (instead of a five-way join building them again for every row) makes a page of 500
    several times faster. Queries: the page, one per related model present, the terms.
    """
    subs = list(qs)
    _attach(subs, "customer", Customer, fields=("id", "csn", "name"))
    _attach(subs, "offering", Offering, fields=("id", "code", "name"))
    _attach(subs, "purchaser", User, fields=("id", "email"))
    _attach(subs, "partner", Partner, fields=("id", "name", "email", "phone"))
    _attach(subs, "card", Card, fields=("id", "last4"))
    terms: dict[str, list[TermRow]] = {s.pk: [] for s in subs}
    if subs:
        rows = (
            Term.objects.filter(subscription_id__in=list(terms))
            .order_by("subscription_id", "-start")
            .values_list("subscription_id", "start", "end", "order_number")
        )
        for sub_id, start, end, order_number in rows:
            terms[sub_id].append(TermRow(start, end, order_number))
    return subs, terms

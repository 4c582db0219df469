"""Reads of subscriptions shared by every interface: one filter, one scoped lookup (R5, R17).

The portal list, its export and bulk pages, and `GET /api/v1/subscriptions` all narrow the
subscriptions a user may see with `filter_subscriptions`, so a filter means the same everywhere.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.apps import apps
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Exact

from renewals.catalog.models import Price

from . import rules
from .models import Subscription

# Subscription.id's max_length: a longer id cannot exist.
MAX_ID_LENGTH = 64

ORDERINGS = {
    "renewal_date": ("renewal_date", "id"),
    "-renewal_date": ("-renewal_date", "-id"),
    "id": ("id",),
    "product": ("offering__name", "offering__code", "id"),
}
DEFAULT_ORDERING = "renewal_date"


@dataclass(frozen=True)
class SubscriptionFilters:
    """What a list of subscriptions is narrowed to; `None` (or empty) means "any".

    `product` is an offering code and `currency` an ISO 4217 code, both matched without regard
    to case; `within` keeps D from today to today + N days inclusive; `renewable` is R5's
    "eligible" for the user asking, on `today`; `q` searches id, CSN, customer and product.
    """

    stage: str | None = None
    csn: str | None = None
    product: str | None = None
    term: str | None = None
    auto_renew: bool | None = None
    renewable: bool | None = None
    currency: str | None = None
    within: int | None = None
    renewal_date_before: date | None = None
    renewal_date_after: date | None = None
    q: str | None = None
    ordering: str = DEFAULT_ORDERING


def next_term_expression(ref=F):
    """Return the SQL form of the next term's term (R21): what `Subscription.next_term_change`
    and `offers.renewal_change` decide — the term of a change scheduled for this very D, else
    the current term (the one a renewal that changed it left, never the original one).

    `ref` names the subscription's columns: F, or OuterRef inside a subquery.
    """
    text = CharField()
    scheduled_term = Coalesce(
        KeyTextTransform("term", ref("scheduled_change")), Value(""), output_field=text
    )
    scheduled_for = Coalesce(
        KeyTextTransform("for", ref("scheduled_change")), Value(""), output_field=text
    )
    for_this_d = Q(Exact(scheduled_for, Cast(ref("renewal_date"), text))) & ~Q(
        Exact(scheduled_term, Value(""))
    )
    return Case(When(for_this_d, then=scheduled_term), default=ref("term"), output_field=text)


def renewable_q(user, today: date) -> Q:
    """Return the SQL form of R5's "eligible" for `user` on `today`, so that lists can page it.

    It mirrors `rules.renewal_eligibility` condition by condition (purchaser, not partner, not a
    trial, not cancelled, window open, no order holding the next term, an active price for the
    next term's term); a test checks both agree on every reason.
    """
    # R21: the price is that of the next term's term — a scheduled change's when one is set
    # for this D, else the current term (`offers.renewal_change`).
    sellable = Price.objects.filter(
        offering_id=OuterRef("offering_id"),
        term=next_term_expression(OuterRef),
        currency=OuterRef("currency"),
        active=True,
    )
    # checkout is a layer above subscriptions: its model is looked up, never imported. A line
    # holds its term while its order is open or paid; a paid one has moved D past its start.
    order_line = apps.get_model("checkout", "OrderLine")
    pending = order_line.objects.filter(
        subscription_id=OuterRef("pk"), term_start=OuterRef("renewal_date"), holds_term=True
    ).exclude(order__status="paid")
    cancelled = Subscription.objects.in_stage(rules.CANCELLED, today).values("pk")
    return (
        Q(purchaser_id=user.pk, trial=False)
        & ~Q(purchase_method="partner")
        & Q(renewal_date__lte=today + timedelta(days=rules.WINDOW_OPENS_DAYS))
        & ~Q(pk__in=cancelled)
        & Q(Exists(sellable))
        & ~Q(Exists(pending))
    )


def filter_subscriptions(queryset, filters: SubscriptionFilters, *, today: date, user=None):
    """Narrow a subscription queryset by `filters` on `today`, in SQL, and order it.

    `user` is needed only by the `renewable` filter (eligibility depends on who asks). The
    queryset should already be scoped (`Subscription.objects.visible_to(user)`).
    """
    f = filters
    qs = queryset
    if f.stage:
        qs = qs.in_stage(f.stage, today)
    if f.csn:
        qs = qs.filter(customer__csn=f.csn)
    if f.product:
        qs = qs.filter(offering__code__iexact=f.product)
    if f.term:
        qs = qs.filter(term=f.term)
    if f.auto_renew is not None:
        qs = qs.filter(auto_renew=f.auto_renew)
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    if f.within is not None:
        qs = qs.filter(renewal_date__gte=today, renewal_date__lte=today + timedelta(days=f.within))
    if f.renewal_date_before:
        qs = qs.filter(renewal_date__lte=f.renewal_date_before)
    if f.renewal_date_after:
        qs = qs.filter(renewal_date__gte=f.renewal_date_after)
    if f.renewable is not None:
        if user is None:
            raise ValueError("the renewable filter needs the user asking")
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
    return qs.order_by(*ORDERINGS[f.ordering or DEFAULT_ORDERING])


def subscriptions_for(user, filters: SubscriptionFilters, *, today: date):
    """Return the subscriptions `user` may see, narrowed by `filters` and ordered."""
    return filter_subscriptions(
        Subscription.objects.visible_to(user), filters, today=today, user=user
    )


def visible_subscription(user, subscription_id, queryset=None) -> Subscription:
    """Return the subscription `user` may see with this id, or raise Subscription.DoesNotExist.

    Nothing is fetched by a client-supplied id alone (R5): another customer's id is
    indistinguishable from one that does not exist. An id that cannot exist (empty, too long,
    with NUL, which PostgreSQL refuses in a literal) is refused without a query.
    """
    sub_id = str(subscription_id or "")
    if not sub_id or len(sub_id) > MAX_ID_LENGTH or "\x00" in sub_id:
        raise Subscription.DoesNotExist(sub_id)
    base = Subscription.objects.all() if queryset is None else queryset
    return base.visible_to(user).get(pk=sub_id)


def renews_automatically_q() -> Q:
    """Return the SQL form of "renewed without the customer acting" (R12, R9).

    Auto-renew on, not a trial, and either an invoice purchase (an invoice is issued on D) or an
    online purchase paid by a recurring method with a saved card not removed. It agrees with the
    pure `lifecycle.schedule.renews_automatically` (a test checks them on every combination).
    """
    charged = Q(
        purchase_method="online",
        payment_method__in=sorted(rules.RECURRING_PAYMENT_METHODS),
        card__isnull=False,
        card__removed__isnull=True,
    )
    return Q(auto_renew=True, trial=False) & (Q(purchase_method="invoice") | charged)


def waiting_for_a_card(queryset):
    """Narrow `queryset` to the auto-renewals by card that the daily run will not charge (R12).

    Auto-renew on, not a trial, purchase method online, and not renewed automatically
    (`renews_automatically_q`): no saved card, a removed one, or a method that is never charged
    (R9). Choosing a card makes each of them renew automatically; an invoice or partner purchase
    is never listed (an invoice auto-renewal is invoiced on D, R9).
    """
    return queryset.filter(auto_renew=True, trial=False, purchase_method="online").exclude(
        renews_automatically_q()
    )

"""The writes of subscriptions: every renewal and setting change goes through here.

`renew_subscriptions` is the one renewal door (R4, R19): every path that records money — webhooks,
the 3-D Secure return, staff settling, the crash reconciler, automatic charges, invoices — reaches
it through `checkout.orders.order_paid`, with the business day the money is recorded on.
"""

from datetime import date

from django.db import transaction

from renewals.core import audit

from . import periods, rules
from .models import Subscription, Term


class RenewalRefused(Exception):
    """The door refused to renew (R3, R4, R19); nothing was changed.

    `code` is one of `rules.RENEWAL_REFUSALS` (or `missing` for a subscription that no longer
    exists), `subscription_id` the first subscription refused.
    """

    def __init__(self, code: str, subscription_id: str, message: str = ""):
        self.code = code
        self.subscription_id = subscription_id
        super().__init__(message or f"{subscription_id}: {code}")


class AlreadyRenewed(RenewalRefused):
    """The term a renewal pays for is not the subscription's next term any more (R4)."""


@transaction.atomic
def renew_subscriptions(
    renewals: list[tuple[str, date]],
    *,
    today: date,
    order_number: str = "",
    source: str,
    actor=None,
) -> list[Subscription]:
    """Renew each subscription for the term starting on the given date (R4), if R3/R19 allow it.

    `renewals` pairs a subscription id with the start of the term paid for; `today` is the
    business day the money is recorded on. Locks the subscriptions (in id order) and decides with
    `rules.renewal_refusal` for each: the term must be the next one (its start is D), and on
    `today` the subscription must not be a trial nor cancelled (today ≥ D + G, counted from its
    lapse date). If any is refused, raises RenewalRefused (AlreadyRenewed
    for `already_renewed` / `not_next_term`) and changes nothing: an order renews all its lines or
    none. Otherwise each moves to D + 1 term (anchored, R1) and its lapse date with it, so it is
    active again at once; the Term rows' unique constraint makes a second renewal of one term
    impossible whatever the code path.

    Keyword-only and stable so that callers can add what they apply with a renewal (e.g. seat or
    term changes of R21) without touching the decision above.
    """
    starts = dict(renewals)
    subs = list(
        Subscription.objects.select_for_update().filter(pk__in=starts.keys()).order_by("pk")
    )
    if len(subs) != len(starts):
        missing = sorted(set(starts) - {s.pk for s in subs})[0]
        raise RenewalRefused("missing", missing, f"{missing}: no longer exists")
    for sub in subs:
        refusal = rules.renewal_refusal(
            term_start=starts[sub.pk],
            renewal_date=sub.renewal_date,
            lapse_date=sub.lapse_date,
            term=sub.term,
            trial=sub.trial,
            today=today,
        )
        if refusal is not None:
            kind = (
                AlreadyRenewed
                if refusal in (rules.REFUSED_ALREADY_RENEWED, rules.REFUSED_NOT_NEXT_TERM)
                else RenewalRefused
            )
            raise kind(
                refusal,
                sub.pk,
                f"{sub.pk}: the term starting {starts[sub.pk]} cannot be renewed on {today} "
                f"({refusal})",
            )
    terms = []
    for sub in subs:
        start, end = periods.next_term(sub.renewal_date, sub.term, sub.anchor_day)
        terms.append(
            Term(subscription=sub, start=start, end=end, order_number=order_number, source=source)
        )
        sub.renewal_date = end
        sub.lapse_date = end
    Term.objects.bulk_create(terms)
    Subscription.objects.bulk_update(subs, ["renewal_date", "lapse_date"], batch_size=500)
    audit.record_many(subs, action="renewed", actor=actor, order=order_number, source=source)
    return subs


@transaction.atomic
def start_lapse(subscription_ids: list[str], *, day: date, label: str = "", **data) -> int:
    """Start the expiry process of subscriptions from `day` (an overdue invoice's due date, R2, R9).

    Only moves the lapse date earlier, never after D (`lapse_date <= renewal_date` holds), and
    audits each subscription moved. Returns how many moved.
    """
    subs = list(
        Subscription.objects.select_for_update()
        .filter(pk__in=subscription_ids, lapse_date__gt=day, renewal_date__gte=day)
        .order_by("pk")
    )
    for sub in subs:
        sub.lapse_date = day
    Subscription.objects.bulk_update(subs, ["lapse_date"], batch_size=500)
    audit.record_many(subs, action="lapse_started", label=label, lapse_date=day.isoformat(), **data)
    return len(subs)


@transaction.atomic
def restore_lapse_dates(
    subscription_ids: list[str], *, today: date, actor=None, label: str = "", **data
) -> tuple[list[str], list[str]]:
    """Take subscriptions out of an overdue invoice's expiry process: lapse date = D (R9, R19).

    The door for paying an invoice: a subscription already cancelled on `today` (counted from its
    lapse date) stays cancelled — R2 makes that final — and is returned as refused, so billing can
    keep the money for staff to refund. Returns (restored ids, refused ids); audits both on the
    subscriptions.
    """
    subs = list(
        Subscription.objects.select_for_update().filter(pk__in=subscription_ids).order_by("pk")
    )
    restored, refused = [], []
    for sub in subs:
        if sub.lapse_date == sub.renewal_date:
            continue
        if sub.stage_on(today) == rules.CANCELLED:
            refused.append(sub)
            continue
        sub.lapse_date = sub.renewal_date
        restored.append(sub)
    Subscription.objects.bulk_update(restored, ["lapse_date"], batch_size=500)
    audit.record_many(restored, action="lapse_restored", actor=actor, label=label, **data)
    audit.record_many(
        refused, action="restore_refused", actor=actor, label=label, reason="cancelled", **data
    )
    return [s.pk for s in restored], [s.pk for s in refused]

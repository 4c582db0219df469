"""The writes of subscriptions: every renewal and setting change goes through here."""

from datetime import date

from django.db import transaction

from renewals.core import audit

from . import periods
from .models import Subscription, Term


class AlreadyRenewed(Exception):
    """The term a renewal pays for is not the subscription's next term any more (R4)."""


@transaction.atomic
def renew_subscriptions(
    renewals: list[tuple[str, date]], *, order_number: str = "", source: str, actor=None
) -> list[Subscription]:
    """Renew each subscription for the term starting on the given date (R4).

    `renewals` pairs a subscription id with the start of the term paid for, which must be its
    current renewal date D. Each moves to D + 1 term (anchored, R1) and its lapse date with it,
    so it is active again at once. The Term rows' unique constraint makes a second renewal of
    the same term impossible. Locks the subscriptions; raises AlreadyRenewed, changing nothing,
    if any term is not the next one.
    """
    starts = dict(renewals)
    subs = list(
        Subscription.objects.select_for_update().filter(pk__in=starts.keys()).order_by("pk")
    )
    if len(subs) != len(starts):
        raise AlreadyRenewed("some subscriptions no longer exist")
    terms = []
    for sub in subs:
        if sub.renewal_date != starts[sub.pk]:
            raise AlreadyRenewed(f"{sub.pk}: the term starting {starts[sub.pk]} is not next")
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

"""Scheduled changes of a subscription's next term: seats and term chosen before D (R21).

One of the subscription doors of `actions` (which re-exports these): `schedule_change` and
`cancel_scheduled_change`, each locking the row, refusing with every reason (`ChangeRefused`)
and audited on the subscription.
"""

from datetime import date

from django.conf import settings
from django.db import transaction

from renewals.catalog.models import TERM_CODES, Price
from renewals.core import audit
from renewals.core.errors import DomainError

from . import rules
from .models import Subscription


class ChangeRefused(DomainError):
    """A change of seats or term refused (R21): `reasons` are rule codes, each in the catalogue."""

    def __init__(self, reasons: tuple[str, ...], *, max_seats: int, sold_terms):
        self.reasons = reasons
        self.max_seats = max_seats
        self.sold_terms = tuple(sold_terms)
        super().__init__(
            reasons[0],
            max_seats=max_seats,
            details=[{"reasons": list(reasons), "max_seats": max_seats, "terms": list(sold_terms)}],
        )


def max_seats(offering) -> int:
    """Return the most seats a renewal of this offering may have (R21)."""
    return offering.max_seats or settings.RENEWALS_MAX_SEATS


def sold_terms(sub: Subscription) -> tuple[str, ...]:
    """Return the terms with an active price for the subscription's offering and currency."""
    sold = set(
        Price.objects.filter(
            offering_id=sub.offering_id, currency=sub.currency, active=True
        ).values_list("term", flat=True)
    )
    return tuple(t for t in TERM_CODES if t in sold)


@transaction.atomic
def schedule_change(
    subscription_id: str,
    *,
    seats: int | None,
    term: str | None,
    today: date,
    actor,
) -> Subscription:
    """Schedule the seats and/or term of the subscription's next term `[D, …)` (R21).

    For the automatic charge of that term and any manual renewal of it (a change chosen in the
    cart still wins for that order). None keeps the current value; a change equal to the
    current seats and term cancels the scheduled one. Refused with every reason
    (`ChangeRefused`: not the purchaser, cancelled, on or after D, partner, trial, seats out of
    bounds, a term not sold) and then nothing changes. Audited on the subscription.
    """
    sub = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("offering")
        .get(pk=subscription_id)
    )
    if term is not None and term not in TERM_CODES:
        raise DomainError("invalid_term")
    sold = sold_terms(sub)
    limit = max_seats(sub.offering)
    reasons = rules.scheduled_change_refusals(
        is_purchaser=actor is not None and sub.purchaser_id == actor.pk,
        stage=sub.stage_on(today),
        renewal_date=sub.renewal_date,
        today=today,
        seats=seats,
        term=term,
        max_seats=limit,
        sold_terms=set(sold),
        purchase_method=sub.purchase_method,
        trial=sub.trial,
    )
    if reasons:
        raise ChangeRefused(reasons, max_seats=limit, sold_terms=sold)
    new_seats = seats if seats is not None and seats != sub.seats else None
    new_term = term if term is not None and term != sub.term else None
    before = sub.scheduled_change
    if new_seats is None and new_term is None:
        sub.scheduled_change = None
    else:
        sub.scheduled_change = {
            "for": sub.renewal_date.isoformat(),
            "seats": new_seats,
            "term": new_term,
        }
    if sub.scheduled_change == before:
        return sub
    sub.save(update_fields=["scheduled_change", "updated"])
    audit.record(
        sub,
        action="renewal_change_scheduled" if sub.scheduled_change else "scheduled_change_cancelled",
        actor=actor,
        before=before,
        after=sub.scheduled_change,
    )
    return sub


@transaction.atomic
def cancel_scheduled_change(subscription_id: str, *, today: date, actor) -> Subscription:
    """Cancel the change scheduled for the next term, any day before D (R21); audited."""
    sub = Subscription.objects.select_for_update().get(pk=subscription_id)
    reasons = rules.scheduled_change_refusals(
        is_purchaser=actor is not None and sub.purchaser_id == actor.pk,
        stage=sub.stage_on(today),
        renewal_date=sub.renewal_date,
        today=today,
        seats=None,
        term=None,
        max_seats=1,
        sold_terms=set(),
        purchase_method=sub.purchase_method,
        trial=sub.trial,
    )
    if reasons:
        raise ChangeRefused(reasons, max_seats=1, sold_terms=())
    if sub.scheduled_change is None:
        return sub
    before = sub.scheduled_change
    sub.scheduled_change = None
    sub.save(update_fields=["scheduled_change", "updated"])
    audit.record(sub, action="scheduled_change_cancelled", actor=actor, before=before)
    return sub

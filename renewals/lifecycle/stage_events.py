"""Announce the stage changes time brings (R2 → R22): the daily run's `subscription.stage_changed`.

A stage is derived from dates, so nothing is written when a subscription expires at midnight:
each run looks up, with indexed date ranges, the subscriptions that entered a stage in its window
`(since, today]`, and records one event per change with the stage and access before (on `since`)
and after. Each event is keyed by (subscription, lapse date, stage entered), so repeating a run,
or a run catching up missed days, never announces a change twice.
"""

from datetime import date, timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q

from renewals.catalog.models import TERM_CODES
from renewals.events import outbox as events
from renewals.subscriptions import periods, rules
from renewals.subscriptions.models import Subscription

BATCH = 1000


def entered_a_stage(since: date, today: date) -> Q:
    """Return the condition "entered expired, suspended or cancelled in (since, today]"."""

    def started(days: int) -> Q:
        return Q(
            lapse_date__gt=since - timedelta(days=days),
            lapse_date__lte=today - timedelta(days=days),
        )

    match = started(0)
    match |= Q(trial=False) & started(rules.SUSPENSION_AFTER_DAYS)
    for term in TERM_CODES:
        match |= Q(trial=False, term=term) & started(periods.grace_days(term))
    return match


class _Dates(NamedTuple):
    """What a stage is derived from, read as values (no model instance, #15)."""

    pk: str
    lapse_date: date
    term: str
    trial: bool

    def stage_on(self, day: date) -> str:
        return rules.stage_on(self.lapse_date, self.term, trial=self.trial, today=day)


def announce_stage_changes(since: date, today: date) -> int:
    """Record the stage changes of `(since, today]` as events; return how many were recorded."""
    rows = [
        _Dates(*row)
        for row in Subscription.objects.filter(entered_a_stage(since, today))
        .order_by("pk")
        .values_list("pk", "lapse_date", "term", "trial")
    ]
    recorded = 0
    for start in range(0, len(rows), BATCH):
        subs = rows[start : start + BATCH]
        before = {s.pk: s.stage_on(since) for s in subs}
        with transaction.atomic():
            recorded += len(events.emit_stage_changes(subs, before, today=today, dedupe=True))
    return recorded

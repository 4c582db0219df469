"""The writes of subscriptions: every renewal and setting change goes through here.

`renew_subscriptions` is the one renewal door (R4, R19): every path that records money — webhooks,
the 3-D Secure return, staff settling, the crash reconciler, automatic charges, invoices — reaches
it through `checkout.orders.order_paid`, with the business day the money is recorded on.

The other doors, each audited on the subscription: `create_subscription` (staff; the import has
its bulk twin in `importing/write.py`), `change_settings` (staff, with R11), `set_payment_method`
(cards, saved cards, the import), the lapse date's `start_lapse` / `restore_lapse_dates`
(billing) and the next term's `schedule_change` / `cancel_scheduled_change` (R21, kept in
`scheduled_changes` and re-exported here).

Two doors live in modules of their own, and are doors all the same: the purchaser's auto-renew
switch `auto_renew.change_auto_renew` (R11: a result per id for the portal and the API; this
module imports its confirmation emails from there, so it cannot live here), and the import's
bulk writes in `importing/write.py`. Nothing else writes a subscription's dates, settings or
card; `tests/structure/test_subscription_doors.py` fails on a write from any other module.
Every door stamps `updated` with the project clock (a bulk write does not run `auto_now`).
"""

from contextlib import nullcontext
from datetime import date

from django.db import transaction

from renewals.core import audit, clock
from renewals.core.errors import DomainError
from renewals.core.updates import update_fields
from renewals.events import outbox as events

from . import periods, rules
from .auto_renew import queue_confirmations
from .models import Subscription, Term
from .scheduled_changes import (  # noqa: F401 (doors of this module, kept in their own)
    ChangeRefused,
    cancel_scheduled_change,
    max_seats,
    schedule_change,
    sold_terms,
)

# What staff may change on an existing subscription; its dates and term move only by renewal
# (R4) or by an import of the vendor's file.
SETTING_FIELDS = (
    "customer",
    "offering",
    "seats",
    "currency",
    "auto_renew",
    "purchase_method",
    "payment_method",
    "card",
    "purchaser",
    "partner",
    "trial",
)
# A setting change that keeps auto-renew on must still satisfy R11 with these.
R11_FIELDS = {"trial", "purchase_method", "payment_method"}


class SettingsRefused(DomainError):
    """A setting change R11 forbids; nothing was changed. `details` are the reason codes."""

    code = "auto_renew_refused"


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


def renew_subscriptions(
    renewals: list[tuple[str, date]],
    *,
    today: date,
    order_number: str = "",
    source: str,
    actor=None,
    changes: dict[str, tuple[int, str]] | None = None,
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

    `changes` maps a subscription id to the (seats, term) its renewed term is bought for (R21):
    the subscription takes them from D on — the renewed term is `[D, D + 1 new term)` on the
    same anchor day (R1) and the history's Term row records them; the current term `[…, D)` is
    never touched. A change scheduled on the subscription for the renewed term is used up
    (cleared) by the renewal, whatever it carried.
    """
    with _joined():
        return _renew(renewals, today=today, order_number=order_number, source=source,
                      actor=actor, changes=changes or {})  # fmt: skip


def _joined():
    """The caller's transaction (an order's fulfilment), or a new one when there is none.

    Never a savepoint (#15): the door refuses (raises) before it writes anything, so the caller
    keeps the money on the order in the same transaction; a database error aborts it whole.
    """
    if transaction.get_connection().in_atomic_block:
        return nullcontext()
    return transaction.atomic()


def _renew(renewals, *, today, order_number, source, actor, changes) -> list[Subscription]:
    starts = dict(renewals)
    now = clock.now()
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
    before = {sub.pk: sub.stage_on(today) for sub in subs}
    terms, changed = [], []
    for sub in subs:
        seats, term = changes.get(sub.pk, (sub.seats, sub.term))
        if seats < 1:
            raise ValueError(f"{sub.pk}: a renewal needs at least 1 seat")
        start, end = periods.next_term(sub.renewal_date, term, sub.anchor_day)
        terms.append(
            Term(
                subscription=sub,
                start=start,
                end=end,
                order_number=order_number,
                source=source,
                seats=seats,
            )
        )
        if (seats, term) != (sub.seats, sub.term):
            changed.append(
                (
                    sub,
                    {
                        "order": order_number,
                        "term_start": start.isoformat(),
                        "seats": [sub.seats, seats],
                        "term": [sub.term, term],
                    },
                )
            )
        sub.seats, sub.term = seats, term
        sub.renewal_date = end
        sub.lapse_date = end
        sub.updated = now
        if sub.scheduled_change is not None:
            # A scheduled change is for one term: this one (used up) or an earlier one (stale).
            sub.scheduled_change = None
    Term.objects.bulk_create(terms)
    update_fields(
        Subscription,
        subs,
        ["renewal_date", "lapse_date", "seats", "term", "scheduled_change", "updated"],
    )
    audit.record_many(subs, action="renewed", actor=actor, order=order_number, source=source)
    audit.record_each(changed, action="renewal_changed", actor=actor)
    # R22: subscription.renewed carries the API shape, so the new seats and term (R21).
    events.emit_renewals(subs, before, today=today)
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
    now = clock.now()
    for sub in subs:
        sub.lapse_date, sub.updated = day, now
    update_fields(Subscription, subs, ["lapse_date", "updated"])
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
    before = {sub.pk: sub.stage_on(today) for sub in subs}
    for sub in subs:
        if sub.lapse_date == sub.renewal_date:
            continue
        if sub.stage_on(today) == rules.CANCELLED:
            refused.append(sub)
            continue
        sub.lapse_date, sub.updated = sub.renewal_date, clock.now()
        restored.append(sub)
    update_fields(Subscription, restored, ["lapse_date", "updated"])
    events.emit_stage_changes(restored, before, today=today)
    audit.record_many(restored, action="lapse_restored", actor=actor, label=label, **data)
    audit.record_many(
        refused, action="restore_refused", actor=actor, label=label, reason="cancelled", **data
    )
    return [s.pk for s in restored], [s.pk for s in refused]


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def settings_refusal(before: Subscription | None, after: Subscription, *, today: date):
    """Return why R11 forbids `after` to auto-renew (empty when allowed, or when it does not).

    Checked when auto-renew is turned on (it needs a recurring method, and never for a trial,
    partner or cancelled subscription), and when it stays on while the trial flag, purchase or
    payment method change (a trial, partner or konbini subscription must not auto-renew).
    Turning it off is always allowed to staff, who act for the purchaser.
    """
    if not after.auto_renew:
        return ()
    turned_on = before is None or not before.auto_renew
    if not turned_on and all(getattr(before, f) == getattr(after, f) for f in R11_FIELDS):
        return ()
    reasons = rules.auto_renew_change_reasons(
        turn_on=True,
        is_purchaser=True,
        purchase_method=after.purchase_method,
        trial=after.trial,
        # A subscription being created has no lapse date yet: it will be D (R2).
        stage=rules.stage_on(
            after.lapse_date or after.renewal_date, after.term, trial=after.trial, today=today
        ),
        payment_method=after.payment_method,
    )
    if not turned_on:  # already on: the stage is the daily run's business, not a setting's
        reasons = tuple(r for r in reasons if r != rules.CANCELLED_REASON)
    return reasons


def _refuse(reasons, sub_id: str):
    raise SettingsRefused(id=sub_id, reasons=tuple(reasons), details=list(reasons))


def first_term(start_date: date, renewal_date: date, term: str) -> tuple[date, date]:
    """Return the term a new subscription is in: `[start of the current term, D)` (R1, R4)."""
    return periods.current_term_start(start_date, renewal_date, term), renewal_date


@transaction.atomic
def create_subscription(sub: Subscription, *, today: date, actor=None, source: str = "admin"):
    """Create a subscription with its current term `[start of term, D)` (R1, R4); audited.

    Its lapse date is D (R2). Refused (SettingsRefused, nothing saved) when R11 forbids the
    auto-renew setting it is created with. The import creates in bulk through its own twin
    (`importing.write`) with the same first term.
    """
    reasons = settings_refusal(None, sub, today=today)
    if reasons:
        _refuse(reasons, sub.pk)
    sub.lapse_date = sub.renewal_date
    sub.save(force_insert=True)
    start, end = first_term(sub.start_date, sub.renewal_date, sub.term)
    Term.objects.create(subscription=sub, start=start, end=end, source=source, seats=sub.seats)
    audit.record(sub, action=f"{source}_created", actor=actor)
    if sub.auto_renew:
        _confirm_auto_renew([sub], today=today)
    return sub


def change_settings(
    subscription_id: str, values: dict, *, today: date, actor=None, action: str = "admin_changed"
) -> dict:
    """Change settings (SETTING_FIELDS) of one subscription; return {field: [before, after]}.

    Locks the row; refuses with SettingsRefused (nothing changed) what R11 forbids; saves only
    the fields that differ, audits them with before and after, and when auto-renew changed
    emails the purchaser one confirmation (R11) and records its outbound event (R22).
    """
    unknown = set(values) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"not a setting: {sorted(unknown)}")
    before = Subscription.objects.select_for_update().get(pk=subscription_id)
    after = Subscription.objects.get(pk=subscription_id)
    for name, value in values.items():
        setattr(after, name, value)
    changes = {
        name: [_plain(getattr(before, name)), _plain(getattr(after, name))]
        for name in values
        if _plain(getattr(before, name)) != _plain(getattr(after, name))
    }
    if not changes:
        return {}
    reasons = settings_refusal(before, after, today=today)
    if reasons:
        _refuse(reasons, subscription_id)
    after.save(update_fields=[*changes, "updated"])
    audit.record(after, action=action, actor=actor, changes=changes)
    if "auto_renew" in changes:
        _confirm_auto_renew([after], today=today)
        events.emit_auto_renew_changes([after], today=today)
    return changes


def _confirm_auto_renew(subs: list[Subscription], *, today: date) -> None:
    queue_confirmations(subs, turn_on=subs[0].auto_renew, today=today)


@transaction.atomic
def set_payment_method(
    subscription_ids,
    *,
    payment_method: str,
    card=None,
    action: str = "payment_method_changed",
    actor=None,
    label: str = "",
    **data,
) -> list[str]:
    """Make `card` (or none) and `payment_method` pay these subscriptions; audited on each.

    The one write of a subscription's card (R9, R12): saving a card at checkout, assigning or
    replacing one in the portal, removing one. Subscriptions already set so are left alone.
    Stamps `updated` with the project clock. The audit event (`action`) holds the card id and
    `data`. Returns the ids changed, sorted.
    """
    card_id = getattr(card, "pk", card)
    if card_id is not None and payment_method != "card":
        raise ValueError("a card pays only a subscription paid by card")
    subs = list(
        Subscription.objects.select_for_update()
        .filter(pk__in=list(subscription_ids))
        .order_by("pk")
    )
    changed = [s for s in subs if (s.payment_method, s.card_id) != (payment_method, card_id)]
    now = clock.now()
    for sub in changed:
        sub.payment_method, sub.card_id, sub.updated = payment_method, card_id, now
    # One statement whatever the number: every changed row gets the same values.
    Subscription.objects.filter(pk__in=[s.pk for s in changed]).update(
        payment_method=payment_method, card_id=card_id, updated=now
    )
    audit.record_many(
        changed,
        action=action,
        actor=actor,
        label=label,
        payment_method=payment_method,
        card=card_id,
        **data,
    )
    return [s.pk for s in changed]

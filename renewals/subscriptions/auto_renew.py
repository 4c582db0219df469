"""Turning auto-renew on or off for one subscription or up to 100 at once (R8, R11).

One of the subscription doors (the list is in `actions`' docstring): the only write of
`auto_renew` by the purchaser, audited on each subscription and stamped `updated` with the
project clock, with one confirmation email.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from renewals.core import audit, clock
from renewals.core.errors import DomainError
from renewals.events import outbox as events
from renewals.notifications.outbox import queue_email

from . import rules
from .models import Subscription

NOT_FOUND = "not_found"


@dataclass(frozen=True)
class AutoRenewResult:
    id: str
    ok: bool
    reasons: tuple[str, ...]


def change_auto_renew(
    *, user, subscription_ids: list[str], turn_on: bool, today: date
) -> list[AutoRenewResult]:
    """Set auto-renew on or off for each subscription the user may change (R11), per id.

    Ids the user cannot see are refused with "not_found" (never revealing that they exist);
    the others with the reasons of rules.auto_renew_change_reasons. More than 100 ids is a
    DomainError "too_many" and changes nothing. Changes are audited; each purchaser whose
    subscriptions actually changed gets one `auto-renew-changed` email per call, after commit.
    """
    ids = list(dict.fromkeys(str(i) for i in subscription_ids))
    if len(ids) > rules.AT_ONCE_LIMIT:
        raise DomainError("too_many", variant="auto_renew", max=rules.AT_ONCE_LIMIT, count=len(ids))
    with transaction.atomic():
        subs = {
            s.pk: s
            for s in Subscription.objects.visible_to(user)
            .filter(pk__in=ids)
            .select_related("offering", "purchaser", "card")
            .select_for_update(of=("self",))
        }
        results, changed = [], []
        for sub_id in ids:
            sub = subs.get(sub_id)
            if sub is None:
                results.append(AutoRenewResult(sub_id, False, (NOT_FOUND,)))
                continue
            reasons = rules.auto_renew_change_reasons(
                turn_on=turn_on,
                is_purchaser=sub.purchaser_id == user.pk,
                purchase_method=sub.purchase_method,
                trial=sub.trial,
                stage=sub.stage_on(today),
                payment_method=sub.payment_method,
            )
            if not reasons and sub.auto_renew != turn_on:
                sub.auto_renew, sub.updated = turn_on, clock.now()
                changed.append(sub)
            results.append(AutoRenewResult(sub_id, not reasons, reasons))
        if changed:
            Subscription.objects.bulk_update(changed, ["auto_renew", "updated"])
            events.emit_auto_renew_changes(changed, today=today)
            audit.record_many(
                changed,
                action="auto_renew_on" if turn_on else "auto_renew_off",
                actor=user,
                business_date=today.isoformat(),
            )
            queue_confirmations(changed, turn_on=turn_on, today=today)
    return results


def queue_confirmations(changed: list[Subscription], *, turn_on: bool, today: date) -> None:
    """Queue one confirmation email per purchaser listing the subscriptions changed (R11)."""
    by_purchaser: dict[int, list[Subscription]] = {}
    for sub in changed:
        by_purchaser.setdefault(sub.purchaser_id, []).append(sub)
    action_id = uuid.uuid4().hex
    for purchaser_id, subs in by_purchaser.items():
        purchaser = subs[0].purchaser
        ids = [s.pk for s in subs]
        queue_email(
            kind="auto-renew-changed",
            to=purchaser.email,
            language=purchaser.language,
            context={
                "name": purchaser.get_short_name(),
                "turned_on": turn_on,
                "subscriptions": [_line(s, today) for s in subs],
            },
            dedupe_key=f"auto-renew-changed:{purchaser_id}:{action_id}",
            headers={"X-Renewals-Subscriptions": ",".join(ids)},
        )


def _line(sub: Subscription, today: date) -> dict:
    stage = sub.stage_on(today)
    return {
        "id": sub.pk,
        "product": sub.offering.name,
        "renewal_date": sub.renewal_date,
        "stage": stage,
        # R12: auto-renew turned on after D is charged on the next daily run, not on D.
        "late": stage in (rules.EXPIRED, rules.SUSPENDED),
        "card_last4": sub.card.last4 if sub.card_id else "",
        "invoice": sub.purchase_method == "invoice",
    }

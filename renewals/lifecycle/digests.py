"""Digest emails of the daily run: one email per purchaser, kind and day (R13)."""

import hashlib
from datetime import date

from renewals.notifications.models import Email
from renewals.notifications.outbox import queue_email


def subscription_line(sub, *, amount=None) -> dict:
    """Return the plain context of one subscription in a digest email."""
    return {
        "id": sub.pk,
        "product": sub.offering.name,
        "seats": sub.seats,
        "term": sub.term,
        "renewal_date": sub.renewal_date,
        "lapse_date": sub.lapse_date,
        "amount": amount,
        "card_last4": sub.card.last4 if sub.card_id and sub.card else "",
    }


def digest_keys(groups: list[tuple[str, int, list[str]]], today: date) -> list[str]:
    """Return the dedupe keys of many digests (kind, purchaser id, ids) with one query.

    A digest's key is `<kind>:<purchaser id>:<date>`. The rare second digest of the same kind on
    the same day (something fell due after a run already sent one, e.g. a re-run after a
    change) gets a suffix naming its subscriptions, so it is neither lost nor merged into the
    first.
    """
    bases = [f"{kind}:{purchaser_id}:{today.isoformat()}" for kind, purchaser_id, _ids in groups]
    taken = set(Email.objects.filter(dedupe_key__any=bases).values_list("dedupe_key", flat=True))
    return [
        base if base not in taken else f"{base}:{_ids_digest(ids)}"
        for base, (_kind, _purchaser_id, ids) in zip(bases, groups, strict=True)
    ]


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256(",".join(sorted(ids)).encode()).hexdigest()[:16]


def digest_spec(kind: str, *, purchaser, today: date, lines: list[dict], key: str, extra=None):
    """Return the outbox spec of one digest email listing `lines` (R13)."""
    return {
        "kind": kind,
        "to": purchaser.email,
        "language": purchaser.language,
        "context": {
            "name": purchaser.get_short_name(),
            "subscriptions": lines,
            "today": today,
            **(extra or {}),
        },
        "dedupe_key": key,
        "headers": {"X-Renewals-Subscriptions": ",".join(line["id"] for line in lines)},
    }


def queue_digest(kind: str, *, purchaser, today: date, lines: list[dict], extra=None) -> Email:
    """Queue one digest email listing `lines` to the purchaser, in their language (R13)."""
    [key] = digest_keys([(kind, purchaser.pk, [line["id"] for line in lines])], today)
    spec = digest_spec(kind, purchaser=purchaser, today=today, lines=lines, key=key, extra=extra)
    return queue_email(**spec)

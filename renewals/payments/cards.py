"""Saved cards: add, remove, and make a card pay chosen subscriptions (R9, R11, R12).

A saved card is the only recurring-capable payment method. Every change is audited. With the
sandbox gateway a card is saved from one of R10's public test numbers (token
`pm_sandbox_<number>`; any other number is refused, never stored); with Stripe, cards are saved
during checkout on Stripe's page, never from a number here.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction

from renewals.accounts.models import Card
from renewals.core import audit, clock
from renewals.core.errors import DomainError, NotFound
from renewals.subscriptions.actions import set_payment_method
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.rules import AT_ONCE_LIMIT

from .gateways.sandbox import TEST_CARDS


@dataclass(frozen=True)
class AssignResult:
    id: str
    ok: bool
    reasons: tuple[str, ...]


def luhn_valid(number: str) -> bool:
    """Tell whether a string of digits passes the Luhn checksum."""
    if not (number.isascii() and number.isdigit()):  # "²" is a digit to isdigit(), not to int()
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    """Name the card network from the number's leading digits (IIN ranges)."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number.startswith("35"):
        return "jcb"
    return "card"


def card_expired(exp_month: int, exp_year: int, *, today: date) -> bool:
    """Tell whether a card valid through the end of `exp_month`/`exp_year` is expired today."""
    return (exp_year, exp_month) < (today.year, today.month)


def active_cards(user):
    """Return the user's saved cards that are not removed, newest first."""
    return Card.objects.filter(user=user, removed__isnull=True).order_by("-created", "-id")


def add_card(user, number: str, exp_month, exp_year, *, today: date) -> Card:
    """Save a card for `user` from its number and expiry (sandbox gateway only); audited.

    Refuses, with a message, a number that fails the Luhn check, a wrong length, a number
    that is not one of the sandbox's test numbers (`card_number_not_accepted`: no real card
    reaches this server, R10), an impossible or past expiry, a card already saved, and any
    number under the Stripe gateway.
    """
    if settings.PAYMENT_GATEWAY != "sandbox":
        raise DomainError("add_card_in_checkout")
    digits = "".join(ch for ch in str(number) if ch not in " -")
    if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19:
        raise DomainError("card_number_invalid")
    if not luhn_valid(digits):
        raise DomainError("card_number_invalid", variant="checksum")
    if digits not in TEST_CARDS:
        raise DomainError("card_number_not_accepted", variant="sandbox")
    try:
        month, year = int(exp_month), int(exp_year)
    except (TypeError, ValueError):
        raise DomainError("card_expiry_invalid") from None
    if year < 100:
        year += 2000
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise DomainError("card_expiry_invalid", variant="year")
    if card_expired(month, year, today=today):
        raise DomainError("card_expired")
    token = f"pm_sandbox_{digits}"
    with transaction.atomic():
        card = (
            Card.objects.select_for_update()
            .filter(user=user, gateway="sandbox", token=token)
            .first()
        )
        if card is not None and card.removed is None:
            raise DomainError("card_already_saved", last4=card.last4)
        if card is None:
            try:
                with transaction.atomic():
                    card = Card.objects.create(
                        user=user,
                        gateway="sandbox",
                        token=token,
                        brand=card_brand(digits),
                        last4=digits[-4:],
                        exp_month=month,
                        exp_year=year,
                    )
            except IntegrityError:
                raise DomainError("card_already_saved", last4=digits[-4:]) from None
        else:
            # Saving a removed card again brings the same row back (one row per token).
            card.removed = None
            card.exp_month, card.exp_year = month, year
            card.save(update_fields=["removed", "exp_month", "exp_year"])
        audit.record(card, action="card_added", actor=user, last4=card.last4, brand=card.brand)
    return card


def _own_card(user, card_id) -> Card:
    try:
        return active_cards(user).get(pk=int(card_id))
    except (Card.DoesNotExist, TypeError, ValueError):
        raise NotFound("card") from None


def remove_card(user, card_id, *, replacement_id=None) -> Card:
    """Remove a saved card; the subscriptions it pays move to `replacement_id` when given.

    Refused (code `card_in_use`, nothing changed) while auto-renewing subscriptions depend on
    it and no other card is chosen: R12 would have nothing to charge. Subscriptions without
    auto-renew keep payment method "card" with no saved card. Audited.
    """
    with transaction.atomic():
        card = _own_card(user, card_id)
        Card.objects.select_for_update().filter(pk=card.pk).get()
        replacement = None
        if replacement_id not in (None, ""):
            replacement = _own_card(user, replacement_id)
            if replacement.pk == card.pk:
                raise DomainError("same_card")
        paid = Subscription.objects.select_for_update().filter(card=card)
        dependent = sorted(paid.filter(auto_renew=True).values_list("pk", flat=True))
        if dependent and replacement is None:
            raise DomainError("card_in_use", ids=dependent, details=dependent)
        moved = sorted(paid.values_list("pk", flat=True))
        # Without a replacement they keep payment method "card" with no saved card.
        set_payment_method(
            moved,
            payment_method="card",
            card=replacement,
            action="card_replaced" if replacement else "card_unset",
            actor=user,
            removed=card.pk,
        )
        card.removed = clock.now()
        card.save(update_fields=["removed"])
        audit.record(
            card,
            action="card_removed",
            actor=user,
            last4=card.last4,
            replacement=replacement.pk if replacement else None,
            subscriptions=moved,
        )
    return card


def assign_card(user, card_id, subscription_ids: list[str], *, today: date) -> list[AssignResult]:
    """Make a saved card pay the chosen subscriptions the user is purchaser of; audited.

    Sets payment method "card" and the card. Ids the user may not see are `not_found`; ones
    they do not purchase are `not_purchaser`; partner-managed and cancelled ones are refused.
    At most 100 at once (R8).
    """
    ids = list(dict.fromkeys(str(i) for i in subscription_ids if i))
    if not ids:
        raise DomainError("nothing_chosen")
    if len(ids) > AT_ONCE_LIMIT:
        raise DomainError("too_many", max=AT_ONCE_LIMIT)
    results = []
    with transaction.atomic():
        card = _own_card(user, card_id)
        subs = {
            s.pk: s
            for s in Subscription.objects.visible_to(user)
            .select_for_update(of=("self",))
            .filter(pk__in=[i for i in ids if "\x00" not in i])  # PostgreSQL refuses NUL
        }
        changed = []
        for sub_id in ids:
            sub = subs.get(sub_id)
            if sub is None:
                results.append(AssignResult(sub_id, False, ("not_found",)))
                continue
            reasons = []
            if sub.purchaser_id != user.pk:
                reasons.append("not_purchaser")
            if sub.purchase_method == "partner":
                reasons.append("partner_managed")
            if sub.stage_on(today) == "cancelled":
                reasons.append("cancelled")
            if reasons:
                results.append(AssignResult(sub_id, False, tuple(reasons)))
                continue
            changed.append(sub.pk)
            results.append(AssignResult(sub_id, True, ()))
        set_payment_method(changed, payment_method="card", card=card, actor=user, last4=card.last4)
    return results

"""Say in words why a subscription cannot be renewed (R5) or its auto-renew changed (R11)."""

from django.utils import translation
from django.utils.translation import gettext as _

from renewals.checkout.models import OPEN_STATUSES, OrderLine
from renewals.core.formatting import long_date
from renewals.core.templatetags.renewals_format import listing


def reason_text(
    code: str, sub, *, window_opens=None, pending_order: str = "", max_seats: int | None = None
) -> str:
    """Return one refusal reason as a sentence for the customer, in the active language.

    `sub` needs `purchaser` and `partner` loaded. Codes this module does not know are shown as
    they are rather than hidden, so a new rule never silently disappears from the page.
    """
    language = (translation.get_language() or "en")[:2]
    if code == "too_early" and window_opens:
        return _("Renewal opens on %(date)s.") % {"date": long_date(window_opens, language)}
    if code == "not_purchaser" and max_seats is not None:
        return _("Only the purchaser can change the next renewal.")
    if code == "not_purchaser":
        purchaser = sub.purchaser
        who = f"{purchaser.name} <{purchaser.email}>" if purchaser.name else purchaser.email
        return _("Only the purchaser, %(who)s, can renew this subscription.") % {"who": who}
    if code == "partner_managed":
        partner = sub.partner
        if partner is None:
            return _("This subscription is renewed through a partner.")
        contact = listing(p for p in (partner.email, partner.phone) if p)
        return _("This subscription is renewed through your partner %(name)s (%(contact)s).") % {
            "name": partner.name,
            "contact": contact,
        }
    if code == "seats_above_limit":
        return _("A renewal can have at most %(max)s seats.") % {"max": max_seats or "?"}
    if code == "payment_pending":
        if pending_order:
            return _("Order %(number)s for its next term is waiting for payment.") % {
                "number": pending_order
            }
        return _("An order for its next term is waiting for payment.")
    fixed = {
        # R21: refusals of a change of seats or term.
        "seats_below_one": _("A renewal needs at least 1 seat."),
        "term_not_sold": _("This term is not offered for this product and currency."),
        "invalid_term": _("Choose monthly, annual or 3 years."),
        "invalid_seats": _("Type the number of seats as a whole number."),
        "change_too_late": _("The next renewal can be changed only before its renewal date."),
        "trial": _("A trial cannot be renewed."),
        "cancelled": _("This subscription is cancelled and can no longer be renewed."),
        "too_early": _("Renewal is not open yet."),
        "not_sellable": _("This product is no longer offered for this term and currency."),
        "payment_method_not_recurring": _(
            "Automatic renewal needs a saved card as the payment method."
        ),
        "not_found": _("Subscription not found."),
    }
    return fixed.get(code, code)


def pending_order_number(sub) -> str:
    """Return the number of the open order holding the subscription's next term, if any (R5)."""
    line = (
        OrderLine.objects.filter(
            subscription=sub,
            term_start=sub.renewal_date,
            holds_term=True,
            order__status__in=OPEN_STATUSES,
        )
        .select_related("order")
        .first()
    )
    return line.order.number if line else ""


def offer_reasons(sub, offer) -> tuple[list[str], str]:
    """Return every reason of a renewal offer (R5) as sentences, and the pending order's number."""
    pending = pending_order_number(sub) if "payment_pending" in offer.reasons else ""
    sentences = [
        reason_text(code, sub, window_opens=offer.eligibility.window_opens, pending_order=pending)
        for code in offer.reasons
    ]
    return sentences, pending


def methods_not_offered(group) -> list[str]:
    """Say why each payment method missing from a cart group's choice is not offered (R9)."""
    from renewals.checkout.pricing import KONBINI_MAX, KONBINI_MIN
    from renewals.core.formatting import money_text
    from renewals.core.money import money

    language = (translation.get_language() or "en")[:2]
    offered = set(group.payment_methods)
    why = []
    if "konbini" not in offered:
        if group.currency != "JPY":
            why.append(_("Konbini: only for orders in Japanese yen."))
        else:
            limits = {
                "min": money_text(money(KONBINI_MIN, "JPY"), language),
                "max": money_text(money(KONBINI_MAX, "JPY"), language),
                "total": money_text(group.total, language),
            }
            why.append(
                _(
                    "Konbini: only for orders from %(min)s to %(max)s; this order is "
                    "%(total)s. Pay it by card or bank transfer."
                )
                % limits
            )
    if "bank_transfer" not in offered and group.currency != "JPY":
        why.append(_("Bank transfer: only for orders in Japanese yen."))
    if "invoice" not in offered:
        why.append(
            _(
                "Invoice: only for customers billed by invoice. Ask your account manager if "
                "your company should pay by invoice."
            )
        )
    return why

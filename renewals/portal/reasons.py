"""Say in words why a subscription cannot be renewed (R5) or its auto-renew changed (R11)."""

from django.utils import translation
from django.utils.translation import gettext as _

from renewals.checkout.models import OPEN_STATUSES, OrderLine
from renewals.core.formatting import long_date


def reason_text(code: str, sub, *, window_opens=None, pending_order: str = "") -> str:
    """Return one refusal reason as a sentence for the customer, in the active language.

    `sub` needs `purchaser` and `partner` loaded. Codes this module does not know are shown as
    they are rather than hidden, so a new rule never silently disappears from the page.
    """
    language = (translation.get_language() or "en")[:2]
    if code == "too_early" and window_opens:
        return _("Renewal opens on %(date)s.") % {"date": long_date(window_opens, language)}
    if code == "not_purchaser":
        purchaser = sub.purchaser
        who = f"{purchaser.name} <{purchaser.email}>" if purchaser.name else purchaser.email
        return _("Only the purchaser, %(who)s, can renew this subscription.") % {"who": who}
    if code == "partner_managed":
        partner = sub.partner
        if partner is None:
            return _("This subscription is renewed through a partner.")
        contact = ", ".join(p for p in (partner.email, partner.phone) if p)
        return _("This subscription is renewed through your partner %(name)s (%(contact)s).") % {
            "name": partner.name,
            "contact": contact,
        }
    if code == "payment_pending":
        if pending_order:
            return _("Order %(number)s for its next term is waiting for payment.") % {
                "number": pending_order
            }
        return _("An order for its next term is waiting for payment.")
    fixed = {
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

"""Template helpers of the portal: labels of stored codes and list links that keep filters."""

from urllib.parse import urlencode

from django import template

from renewals.catalog.models import TERMS
from renewals.portal.filters import STAGE_LABELS
from renewals.subscriptions.models import PAYMENT_METHODS

register = template.Library()

_STAGES = STAGE_LABELS
_TERMS = dict(TERMS)
_PAYMENT_METHODS = dict(PAYMENT_METHODS)


@register.filter
def stage_label(code):
    """Return the translated name of a stage (R2)."""
    return _STAGES.get(code, code)


@register.filter
def term_label(code):
    """Return the translated name of a term."""
    return _TERMS.get(code, code)


@register.filter
def payment_label(code):
    """Return the translated name of a payment method."""
    return _PAYMENT_METHODS.get(code, code or "")


@register.filter
def failure_text(code):
    """Return why a payment failed, in words: the checkout's own sentence, not the gateway code."""
    from renewals.payments.declines import decline_text

    return decline_text(code)


@register.simple_tag
def query(params: dict, **changes):
    """Return `?…` for `params` with `changes` applied (None or "" removes a key)."""
    merged = {**params, **changes}
    merged = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else "?"


@register.filter
def minutes(value) -> int:
    """Return a timedelta as whole minutes, rounded up (for "try again in N minutes")."""
    try:
        return max(1, -(-int(value.total_seconds()) // 60))
    except (AttributeError, TypeError, ValueError):
        return 0


@register.simple_tag
def renewal_status(sub, offer) -> str:
    """Say in a few words what happens at the renewal date, matching the subscription's state.

    Used by the list's "Auto-renew / expiry" column: cancelled, trial, partner-managed and
    invoice subscriptions each say what is true of them, not "Auto-renew on" (#17).
    """
    from django.utils import translation
    from django.utils.translation import gettext as _

    from renewals.core.formatting import short_date
    from renewals.subscriptions.rules import stage_dates

    language = (translation.get_language() or "en")[:2]
    stage = offer.stage if offer is not None else sub.stage
    lapse = short_date(sub.lapse_date, language)
    if stage == "cancelled":
        ended = stage_dates(sub.lapse_date, sub.term, trial=sub.trial)["cancelled"]
        return _("Cancelled on %(date)s: not renewable") % {"date": short_date(ended, language)}
    if sub.trial:
        return _("Trial until %(date)s") % {"date": lapse}
    if sub.purchase_method == "partner":
        return _("Renewed through your partner")
    if sub.auto_renew:
        if sub.purchase_method == "invoice":
            return _("Auto-renew on: invoiced")
        if sub.payment_method == "card" and (sub.card_id is None or sub.card.removed):
            return _("Auto-renew on, but no saved card")
        return _("Auto-renew on")
    if stage == "active":
        return _("Expires %(date)s") % {"date": lapse}
    return _("Expired on %(date)s") % {"date": lapse}

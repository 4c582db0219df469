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
    from renewals.portal.views.cart import decline_text  # views import this library

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

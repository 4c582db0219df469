"""Template filter for emails and pages: `{{ codes|failure_words }}` (see payments.declines)."""

from django import template

from renewals.payments import declines

register = template.Library()


@register.filter
def failure_words(codes) -> str:
    """Say why a payment failed, in the active language, from its code(s)."""
    return declines.failure_words(str(codes or ""))

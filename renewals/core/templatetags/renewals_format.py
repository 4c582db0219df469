"""Template filters: {{ amount|money }}, {{ day|longdate }}, {{ day|shortdate }} in the active language."""

from datetime import date

from django import template
from django.utils import translation

from renewals.core.formatting import long_date, money_text, short_date

register = template.Library()


def _language(arg) -> str:
    return (arg or translation.get_language() or "en")[:2]


@register.filter
def money(value, language=None):
    """Format a Money for people in the current (or given) language."""
    return money_text(value, _language(language))


@register.filter
def longdate(value: date | None, language=None):
    return long_date(value, _language(language)) if value else ""


@register.filter
def shortdate(value: date | None, language=None):
    return short_date(value, _language(language)) if value else ""

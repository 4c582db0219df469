"""Template filters: {{ amount|money }}, {{ day|longdate }}, {{ day|shortdate }} in the active language."""

from datetime import date

from django import template
from django.utils import translation

from renewals.core.formatting import (
    COLONS,
    LIST_SEPARATORS,
    list_text,
    long_date,
    money_text,
    short_date,
)

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


@register.simple_tag
def colon(language=None):
    """{% colon %}: the label-value separator of the current (or given) language."""
    return COLONS.get(_language(language), ": ")


@register.filter
def listing(values, language=None):
    """Join items as a list reads in the language: "A, B" in English and French, "A、B" in Japanese."""
    return list_text(values, _language(language))


@register.simple_tag
def separator(language=None):
    """{% separator %}: what stands between two items of a list written out in a loop."""
    return LIST_SEPARATORS.get(_language(language), ", ")


NUMBER_LOCALES = {"fr": "fr_FR", "ja": "ja_JP"}


@register.filter
def number(value, language=None):
    """A count for people: 2,250 in English and Japanese, 2 250 (narrow no-break space) in French."""
    from babel.numbers import format_decimal

    try:
        return format_decimal(int(value), locale=NUMBER_LOCALES.get(_language(language), "en_GB"))
    except (TypeError, ValueError):
        return value

"""Locale formatting of money and dates for people (portal pages and emails): en, fr, ja."""

from datetime import date

from babel.dates import format_date

from .money import Money, format_money

DATE_LOCALES = {"en": "en_GB", "fr": "fr_FR", "ja": "ja_JP"}


def long_date(value: date, language: str = "en") -> str:
    """Format a date in full: en `2 September 2026`, fr `2 septembre 2026`, ja `2026年9月2日`."""
    return format_date(value, format="long", locale=DATE_LOCALES.get(language, "en_GB"))


def short_date(value: date, language: str = "en") -> str:
    """Format a date compactly: en `2 Sept 2026`, fr `2 sept. 2026`, ja `2026/09/02`."""
    return format_date(value, format="medium", locale=DATE_LOCALES.get(language, "en_GB"))


def money_text(value: Money | None, language: str = "en") -> str:
    """Format an amount for people; nothing for no amount (None, or a template's missing "")."""
    if value is None or value == "":
        return ""
    return format_money(value, language)

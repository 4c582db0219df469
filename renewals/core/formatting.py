"""Locale formatting of money and dates for people (portal pages and emails): en, fr, ja."""

from datetime import date
from functools import lru_cache

from babel import Locale
from babel.dates import format_date

from .money import Money, format_money

DATE_LOCALES = {"en": "en_GB", "fr": "fr_FR", "ja": "ja_JP"}


def _french_first(text: str, value: date, language: str) -> str:
    # French writes the first day of a month as an ordinal: « 1er mars 2027 », never « 1 mars ».
    if language == "fr" and value.day == 1 and text.startswith("1 "):
        return "1er " + text[2:]
    return text


@lru_cache(maxsize=4096)  # pure: digests repeat the same few dates thousands of times
def long_date(value: date, language: str = "en") -> str:
    """Format a date in full: en `2 September 2026`, fr `2 septembre 2026` (`1er mars 2027`),
    ja `2026年9月2日`."""
    text = format_date(value, format="long", locale=DATE_LOCALES.get(language, "en_GB"))
    return _french_first(text, value, language)


@lru_cache(maxsize=1024)
def country_name(code: str, language: str = "en") -> str:
    """Name a country in the language with its ISO code: `France (FR)`, `フランス (FR)`.

    An unknown code is shown as it is."""
    name = Locale.parse(DATE_LOCALES.get(language, "en_GB")).territories.get(code.upper())
    return f"{name} ({code.upper()})" if name else code


@lru_cache(maxsize=4096)
def short_date(value: date, language: str = "en") -> str:
    """Format a date compactly: en `2 Sept 2026`, fr `2 sept. 2026` (`1er mars 2027`),
    ja `2026/09/02`."""
    text = format_date(value, format="medium", locale=DATE_LOCALES.get(language, "en_GB"))
    return _french_first(text, value, language)


# What stands between a label and its value: French puts a no-break space before the colon,
# Japanese uses the full-width colon with no space (#17).
COLONS = {"fr": "\u00a0: ", "ja": "\uff1a"}


def colon_text(language: str = "en") -> str:
    """The label-value separator of the language: ": ", French "\u00a0: ", Japanese "："."""
    return COLONS.get(language[:2], ": ")


# What stands between the items of a list written out for people: Japanese uses the ideographic
# comma with no space (#17).
LIST_SEPARATORS = {"ja": "\u3001"}


def list_text(values, language: str = "en") -> str:
    """Join items as a list reads in the language: "A, B" in English and French, "A、B" in Japanese."""
    return LIST_SEPARATORS.get(language[:2], ", ").join(str(v) for v in values or ())


def money_text(value: Money | None, language: str = "en") -> str:
    """Format an amount for people; nothing for no amount (None, or a template's missing "")."""
    if value is None or value == "":
        return ""
    return format_money(value, language)

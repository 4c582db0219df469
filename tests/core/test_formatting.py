"""Dates and money for people, in en, fr and ja, from code and from templates."""

from datetime import date

import pytest
from django.template import Context, Template
from django.utils import translation

from renewals.core.formatting import long_date, money_text, short_date
from renewals.core.money import money


@pytest.mark.parametrize(
    ("language", "long", "short"),
    [
        ("en", "2 September 2026", "2 Sept 2026"),
        ("fr", "2 septembre 2026", "2 sept. 2026"),
        ("ja", "2026年9月2日", "2026/09/02"),
        ("de", "2 September 2026", "2 Sept 2026"),  # not a portal language: English
    ],
)
def test_dates_for_people(language, long, short):
    assert long_date(date(2026, 9, 2), language) == long
    assert short_date(date(2026, 9, 2), language) == short


def test_leap_day_in_every_language():
    assert [long_date(date(2028, 2, 29), lang) for lang in ["en", "fr", "ja"]] == [
        "29 February 2028",
        "29 février 2028",
        "2028年2月29日",
    ]


def test_money_text_is_empty_for_no_amount():
    assert money_text(None, "fr") == ""
    assert money_text(money("1890", "EUR"), "fr") == "1\u202f890,00\u00a0€"


def render(source: str, **context) -> str:
    return Template("{% load renewals_format %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "€1,890.00 | 2 September 2026 | 2 Sept 2026"),
        ("fr", "1\u202f890,00\u00a0€ | 2 septembre 2026 | 2 sept. 2026"),
        ("ja", "€1,890.00 | 2026年9月2日 | 2026/09/02"),
    ],
)
def test_template_filters_follow_the_active_language(language, text):
    with translation.override(language):
        rendered = render(
            "{{ price|money }} | {{ day|longdate }} | {{ day|shortdate }}",
            price=money("1890", "EUR"),
            day=date(2026, 9, 2),
        )
    assert rendered == text


def test_template_filters_take_an_explicit_language_and_render_nothing_for_none():
    assert render("{{ price|money:'ja' }}", price=money("52800", "JPY")) == "￥52,800"
    assert render("[{{ price|money }}|{{ day|longdate }}|{{ day|shortdate }}]") == "[||]"


def test_french_writes_the_first_of_the_month_as_1er():
    assert long_date(date(2027, 3, 1), "fr") == "1er mars 2027"
    assert short_date(date(2027, 3, 1), "fr") == "1er mars 2027"
    assert long_date(date(2027, 3, 11), "fr") == "11 mars 2027"
    assert long_date(date(2027, 3, 1), "en") == "1 March 2027"


@pytest.mark.parametrize(
    ("code", "language", "shown"),
    [
        ("FR", "fr", "France (FR)"),
        ("DE", "fr", "Allemagne (DE)"),
        ("JP", "ja", "日本 (JP)"),
        ("gb", "en", "United Kingdom (GB)"),
        ("XX", "en", "XX"),  # unknown: as it is
    ],
)
def test_a_country_is_named_in_the_language_with_its_code(code, language, shown):
    from renewals.core.formatting import country_name

    assert country_name(code, language) == shown

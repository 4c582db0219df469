"""An order email's lines rendered from frames (#15) are the plain loop's output, byte for byte.

`order-confirmation-lines.*` loop over the lines with `{% framedfor %}`: each row is rendered
once per shape (language, seats, change) with marks for its texts, then filled. These tests
render the same templates with a plain `{% for %}` (the template as it was) and compare, for
several currencies (JPY has no decimals), languages, awkward texts and 100 lines.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, engines
from django.utils import translation

from renewals.core.formatting import long_date
from renewals.core.money import format_money, money
from renewals.notifications import frames
from renewals.notifications.outbox import render_email
from renewals.notifications.templatetags.email_rows import FramedForNode

TEMPLATES = Path(frames.__file__).parent / "templates" / "emails"
TEXTS = ["AutoCAD", 'O\'Brien & <Sons> "Ltd"', "山田 Équipe", "", "a\ue003&b\ue003c", "{{ x }}"]


def line(i: int, language: str, currency: str) -> dict:
    def fmt(amount: str) -> str:
        return format_money(money(Decimal(amount), currency), language)

    changed = i % 3 == 0
    return {
        "subscription_id": f"SUB-{i:04d}" if i % 7 else f"S<{i}>&",
        "product": TEXTS[i % len(TEXTS)],
        "seats": [1, 2, 5, 0, 11, 21][i % 6],
        "unit_price": fmt("1890.00" if currency != "JPY" else "48000"),
        "price_kind": ["Special renewal price", "List price", "Prix <spécial>"][i % 3],
        "amount": fmt(str(1890 * (1 + i % 5))),
        "term_start": long_date(date(2027, 1 + i % 12, 1 + i % 28), language),
        "term_end": long_date(date(2028, 1 + i % 12, 1 + i % 28), language),
        "term": ["Annual", "Monthly", "3 years"][i % 3],
        "changed": changed,
        "previous_seats": [1, 3, 0][i % 3] if changed else None,
        "previous_term": ["Monthly", "Annual", ""][i % 3] if changed else "",
    }


def context(count: int, language: str, currency: str, variant: int) -> dict:
    def fmt(amount: str) -> str:
        return format_money(money(Decimal(amount), currency), language)

    return {
        "number": "R-2027-000042",
        "customer_name": TEXTS[variant % len(TEXTS)],
        "csn": "5100000001",
        "placed_on": long_date(date(2027, 3, 1), language),
        "payment_method": "Card",
        "lines": [line(variant * 31 + j, language, currency) for j in range(count)],
        "subtotal": fmt("18900"),
        "tax": fmt("3780"),
        "tax_rate": "20 %",
        "total": fmt("22680"),
        "reverse_charge_note": "Reverse <charge> & note" if variant % 2 else "",
        "order_path": "/billing/orders/R-2027-000042/",
        "invoice_number": "F-2027-000001" if variant % 3 else "",
        "invoice_pdf_path": "/billing/invoices/F-2027-000001.pdf" if variant % 3 else "",
        "name": TEXTS[(variant + 1) % len(TEXTS)],
    }


def as_plain_loop(ext: str):
    """The lines template as it was before frames: the same source with `{% for %}`."""
    source = (TEMPLATES / f"order-confirmation-lines.{ext}").read_text()
    assert source.count("{% framedfor line in lines %}") == 1
    source = source.replace("{% framedfor line in lines %}", "{% for line in lines %}")
    return engines["django"].from_string(source.replace("{% endframedfor %}", "{% endfor %}"))


@pytest.mark.parametrize("language", ["en", "fr", "ja"])
@pytest.mark.parametrize("currency", ["EUR", "JPY", "USD"])
def test_order_lines_from_frames_are_the_plain_loop_rendered(language, currency):
    framed = {ext: engines["django"].get_template(f"emails/order-confirmation-lines.{ext}")
              for ext in ("txt", "html")}  # fmt: skip
    for count in (0, 1, 2, 7, 100):
        for variant in range(4):
            values = context(count, language, currency, variant)
            with translation.override(language):
                for ext, template in framed.items():
                    expected = as_plain_loop(ext).render(values)
                    for _twice in range(2):  # the second time from the kept frames
                        assert template.render(values) == expected
                    # Escaping off (a text template can turn it off): the same again.
                    plain = as_plain_loop(ext).template.render(Context(values, autoescape=False))
                    kept = template.template.render(Context(values, autoescape=False))
                    assert kept == plain


def test_the_confirmation_of_100_lines_renders_its_lines_from_frames():
    """The bulk checkout's email takes the fast way (frameless would be slow, not wrong)."""
    values = context(100, "fr", "JPY", 1)
    subject, text, html = render_email("order-confirmation", "fr", values)
    with translation.override("fr"):
        plain = Context({**values, "language": "fr"}, autoescape=False)  # text is not HTML
        assert as_plain_loop("txt").template.render(plain) in text
    assert "O'Brien & <Sons>" in text and "O&#x27;Brien &amp; &lt;Sons&gt;" in html
    nodes = [
        node
        for ext in ("txt", "html")
        for node in engines["django"]
        .get_template(f"emails/order-confirmation-lines.{ext}")
        .template.nodelist.get_nodes_by_type(FramedForNode)
    ]
    assert len(nodes) == 2
    for node in nodes:
        assert node.frames and None not in node.frames.values()
    assert "R-2027-000042" in subject and "山田 Équipe" in html


def test_a_row_whose_texts_are_filtered_is_rendered_in_full():
    """A filter that changes a mark (here `upper`) leaves no frame: the output is still right."""
    template = engines["django"].from_string(
        "{% load email_rows %}{% framedfor s in rows %}[{{ s.t|upper }}|{{ s.n }}]{% endframedfor %}"
    )
    rows = [{"t": "a&b", "n": 1}, {"t": "cd", "n": 1}, {"t": "", "n": 2}]
    assert template.render({"rows": rows}) == "[A&amp;B|1][CD|1][|2]"
    assert template.render({"rows": rows}) == "[A&amp;B|1][CD|1][|2]"


ROWS = [{"t": "abcdefgh", "n": 1}, {"t": "xyz", "n": 1}, {"t": "X", "n": 1}, {"t": "", "n": 1}]


@pytest.mark.parametrize(
    "body",
    [
        "{{ s.t|capfirst }}",
        "{{ s.t|truncatechars:6 }}",
        "{{ s.t|length }}",
        "{{ s.t|linebreaksbr }}",
        "{% if s.t == 'X' %}X!{% else %}other{% endif %}",
        "{% if s.t|length > 3 %}long{% endif %}",
        "{% translate s.t %}",
        "{% blocktranslate with t=s.t|upper %}[{{ t }}]{% endblocktranslate %}",
        "{% now 'Y' %}",
    ],
)
def test_a_body_that_does_more_than_print_its_texts_is_the_plain_loop(body):
    """Found in review: these gave the first row's result to later rows of the same shape."""
    source = "{% load i18n email_rows %}{% framedfor s in rows %}[" + body + "]{% endframedfor %}"
    framed = engines["django"].from_string(source)
    plain = engines["django"].from_string(
        source.replace("framedfor s in rows", "for s in rows").replace("endframedfor", "endfor")
    )
    assert not framed.template.nodelist.get_nodes_by_type(FramedForNode)[0].framed
    for _ in range(2):
        assert framed.render({"rows": ROWS}) == plain.render({"rows": ROWS})


def test_a_value_without_a_telling_repr_is_rendered_in_full():
    class Opaque:  # its repr is its address, which a later object may reuse
        def __init__(self, text):
            self.text = text

        def __str__(self):
            return self.text

    template = engines["django"].from_string(
        "{% load email_rows %}{% framedfor s in rows %}[{{ s.o }}|{{ s.t }}]{% endframedfor %}"
    )
    for i in range(50):
        rows = [{"o": Opaque(f"v{i}"), "t": "a"}]
        assert template.render({"rows": rows}) == f"[v{i}|a]"


def test_the_active_time_zone_is_part_of_a_frames_key():
    from django.utils import timezone

    source = (
        "{% load email_rows %}{% framedfor s in rows %}[{{ s.when }}|{{ s.t }}]{% endframedfor %}"
    )
    framed = engines["django"].from_string(source)
    plain = engines["django"].from_string(
        source.replace("framedfor s in rows", "for s in rows").replace("endframedfor", "endfor")
    )
    assert framed.template.nodelist.get_nodes_by_type(FramedForNode)[0].framed
    rows = [{"when": datetime(2027, 1, 1, 9, 0, tzinfo=UTC), "t": "a"}]
    seen = set()
    for zone in ("Asia/Tokyo", "UTC", "Asia/Tokyo"):
        with timezone.override(zone):
            seen.add(framed.render({"rows": rows}))
            assert framed.render({"rows": rows}) == plain.render({"rows": rows})
    assert len(seen) == 2

"""Charts drawn on the server as inline SVG (R23): no script, no CDN, readable without CSS.

Each bar is a link to the list behind it and carries its value as text, so the chart is also
usable by keyboard and screen reader (role="img" with a title, each bar a labelled link).
"""

from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 660
ROW = 36
LABEL = 230
VALUE = 170
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#4a5568")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown (formatted money, a count, a percentage)
    href: str = ""
    colour: int = 0


def bar_chart(bars: list[Bar], *, title: str) -> SafeString:
    """Return a horizontal bar chart as an SVG element; bars scale to the largest value."""
    height = max(1, len(bars)) * ROW + 10
    biggest = max((b.value for b in bars), default=0) or 1
    span = WIDTH - LABEL - VALUE
    parts = [
        format_html(
            '<svg class="chart" role="img" aria-labelledby="{0}" viewBox="0 0 {1} {2}" '
            'width="100%" style="max-width:{1}px" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{0}">{3}</title>',
            _id(title),
            WIDTH,
            height,
            title,
        )
    ]
    for i, bar in enumerate(bars):
        y = 5 + i * ROW
        length = max(2, round(span * bar.value / biggest)) if bar.value else 0
        body = format_html(
            '<text x="0" y="{}" font-size="17" fill="#1d2329">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{}"></rect>'
            '<text x="{}" y="{}" font-size="17" fill="#1d2329">{}</text>',
            y + 22,
            bar.label,
            LABEL,
            y + 4,
            length,
            ROW - 10,
            COLOURS[bar.colour % len(COLOURS)],
            LABEL + length + 6,
            y + 22,
            bar.text,
        )
        if bar.href:
            body = format_html(
                '<a href="{}" aria-label="{}: {}">{}</a>', bar.href, bar.label, bar.text, body
            )
        parts.append(body)
    parts.append(mark_safe("</svg>"))  # noqa: S308 - a constant
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308 - every part is escaped


def _id(title: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in escape(title).lower())[:40]

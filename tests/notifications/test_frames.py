"""Digests rendered from frames (#15) are the templates' own output, byte for byte.

`notifications.frames` renders each part of a digest kind once per language, day and number of
lines with marks for the name and the list, then fills the frame per email. These tests render
every digest kind, in every language, for several line counts and awkward names and lines, both
ways — from the frame, and the template in full — and compare.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.template import Context
from django.template.loader import get_template
from django.utils import translation

from renewals.core.money import Money
from renewals.notifications import frames
from renewals.notifications.outbox import LINE_BREAKS, render_email

DIGEST_KINDS = [
    "renewal-available",
    "renewal-reminder",
    "auto-renewal-upcoming",
    "subscription-expired",
    "subscription-suspended",
    "subscription-cancelled",
]
PARTS = (".subject.txt", ".txt", ".html")
NAMES = ["Marie", "", 'O\'Brien & <Sons> "Ltd"', "山田"]


def line(i: int) -> dict:
    return {
        "id": f"SUB-{i:06d}" if i % 5 else f"SUB/{i} &x",
        "product": ["Acme <Pro> & Co", "Plan", "Équipe"][i % 3],
        "seats": [3, 0, None, 12][i % 4],
        "term": "annual",
        "renewal_date": date(2026, 9 + i % 3, 1 + (i * 7) % 28),
        "lapse_date": date(2026, 9, 1),
        "amount": [
            Money(Decimal("120.00"), "EUR"),
            Money(Decimal("15000"), "JPY"),
            None,
            Money(Decimal("-0.00"), "USD"),
        ][i % 4],
        "card_last4": ["4242", "", "<1&>"][i % 3],
    }


def in_full(template_name: str, values: dict) -> str:
    return get_template(template_name).template.render(Context(values))


@pytest.mark.parametrize("kind", DIGEST_KINDS)
@pytest.mark.parametrize("language", ["en", "fr", "ja"])
def test_a_digest_from_its_frame_is_the_template_rendered_in_full(kind, language):
    for count in (1, 2, 3, 7):
        for n, name in enumerate(NAMES):
            context = {
                "name": name,
                "subscriptions": [line(count + n + j) for j in range(count)],
                "today": date(2026, 6, 1),
            }
            values = {**context, "language": language, "portal_url": settings.PORTAL_BASE_URL}
            with translation.override(language):
                expected = [in_full(f"emails/{kind}{part}", values) for part in PARTS]
                for _twice in range(2):  # the second time from the cached frame
                    assert [frames.render(f"emails/{kind}{p}", values) for p in PARTS] == expected
            subject, text, html = render_email(kind, language, context)
            assert (text, html) == tuple(expected[1:])
            assert subject == LINE_BREAKS.sub(" ", expected[0].strip()).strip()


@pytest.mark.parametrize("kind", DIGEST_KINDS)
def test_every_digest_kind_has_a_frame(kind):
    """The daily run's digests do take the fast way (frameless would be slow, not wrong)."""
    frames._frames.clear()
    render_email(kind, "en", {"name": "M", "subscriptions": [line(1), line(2)], "today": None})
    assert frames._frames and all(frame is not None for frame in frames._frames.values())
    assert {key[0] for key in frames._frames} == {"part", "list", "row"}


def test_a_part_using_the_lines_outside_the_list_is_rendered_in_full():
    """auto-renewal-failed links the first line's subscription: no frame, the same output."""
    context = {"name": "A&B", "subscriptions": [line(1), line(2)], "today": date(2026, 6, 1)}
    values = {**context, "language": "fr", "portal_url": settings.PORTAL_BASE_URL}
    name = "emails/auto-renewal-failed.html"
    frames._frames.clear()
    with translation.override("fr"):
        assert frames.render(name, values) == in_full(name, values)
        assert frames.render(name, values) == in_full(name, values)
        assert "SUB-000001" in frames.render(name, values)
    assert [frame for key, frame in frames._frames.items() if key[1] == name] == [None]


def test_rows_differing_only_in_their_texts_share_a_frame():
    """Id, product and card are holes of the row's frame; dates, amounts and seats its key."""
    same = [
        {**line(1), "id": f"S-{n}<&>", "product": f"P{n} & co", "card_last4": f"{n}<2>"}
        for n in range(3)
    ]
    context = {"name": "M", "subscriptions": same, "today": None}
    values = {**context, "language": "en", "portal_url": settings.PORTAL_BASE_URL}
    frames._frames.clear()
    with translation.override("en"):
        for part in PARTS:
            assert frames.render(f"emails/renewal-reminder{part}", values) == in_full(
                f"emails/renewal-reminder{part}", values
            )
    assert len([key for key in frames._frames if key[0] == "row"]) == 2  # text, HTML


def test_only_a_digest_context_takes_the_frames():
    assert frames.is_digest({"name": "M", "subscriptions": [], "today": date(2026, 6, 1)})
    assert not frames.is_digest({"name": "M", "subscriptions": [], "reason": "card_declined"})
    assert not frames.is_digest({"name": "M", "lines": []})

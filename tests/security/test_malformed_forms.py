"""Malformed input on every portal POST endpoint never makes a 5xx, and loses nothing (R17).

Each POST view of the portal gets missing fields, wrong types, huge values, unicode and NUL
characters, repeated fields, tampered group keys and ids, and a replayed checkout form. The
answer is a page or a redirect with a message (< 500), and nothing that should not change does.
tests/core/test_security_settings.py already posts an empty body to every portal URL.
"""

import pytest
from django.db import transaction
from django.test import Client

from renewals.checkout.models import Order
from renewals.payments.models import Payment

from .test_web_hardening import POST_PATHS, _state
from .world import TODAY, build_world

pytestmark = pytest.mark.django_db

HUGE = "9" * 100_000
FIELDS = [
    "subscription_ids", "ids", "action", "auto_renew", "method", "card_number", "number",
    "exp_month", "exp_year", "save", "payment_method_id", "card", "subscriptions", "replacement",
    "idempotency_key", "expected_total", "expected_currency", "name", "passed", "language",
    "username", "password", "email", "all_matching", "group", "page", "q", "stage", "next",
]  # fmt: skip

HOSTILE = {
    "nothing": {},
    "huge": dict.fromkeys(FIELDS, HUGE),
    "unicode": dict.fromkeys(FIELDS, "日本語 é 🚀 \u202e"),
    "nul": dict.fromkeys(FIELDS, "a\x00b"),
    "negative": dict.fromkeys(FIELDS, "-1"),
    "float": dict.fromkeys(FIELDS, "1e309"),
    "lists": {f: ["1", "2", "SUB-B1", "x" * 300] for f in FIELDS},
    "tampered": {
        **dict.fromkeys(FIELDS, "5300000002:EUR:online"),
        "subscription_ids": ["SUB-B1", "../../etc/passwd", "' OR 1=1 --"],
        "card": "999999999999999999999",
        "expected_total": "NaN",
    },
    "101 ids": {"subscription_ids": [f"SUB-{n}" for n in range(101)], "ids": ["SUB-A1"] * 101},
}


@pytest.mark.parametrize("payload", sorted(HOSTILE))
def test_no_portal_post_answers_5xx_to_malformed_input(payload, frozen_today):
    frozen_today(TODAY)
    world = build_world()
    client = Client(raise_request_exception=False)
    client.force_login(world.users["purchaser"])
    before = _state()
    answers = {}
    for name, path in POST_PATHS.items():
        if name in ("logout", "login"):
            continue  # they end or change the session, not data
        # Each request in its own savepoint: a refused NUL leaves the test's transaction
        # aborted on PostgreSQL (a real request runs in autocommit).
        try:
            with transaction.atomic():
                response = client.post(path(world), HOSTILE[payload])
                answers[name] = response.status_code
                if response.status_code != 400:
                    _assert_nothing_renewed_ordered_or_of_b(before, _state(), name)
                raise _Undo
        except _Undo:
            pass
    assert {n: s for n, s in answers.items() if s >= 500} == {}


class _Undo(Exception):
    pass


def _assert_nothing_renewed_ordered_or_of_b(before, after, name):
    # The posts may do what the purchaser may do with any body (empty the cart, remove their
    # card, name a token); malformed input never renews, orders or touches customer B.
    assert [row[3] for row in after[0]] == [row[3] for row in before[0]], name
    assert [r for r in after[0] if r[0] == "SUB-B1"] == [r for r in before[0] if r[0] == "SUB-B1"]
    assert after[2] == before[2], name


@pytest.mark.parametrize(
    "path", ["/billing/cart/checkout/{bad}/", "/billing/subscriptions/{bad}/renew/"]
)
@pytest.mark.parametrize(
    "bad",
    [
        "5300000001:EUR",
        "5300000001:EUR:online:x",
        "%00",
        "a" * 2000,
        "5300000001:XXX:online",
        "日本",
    ],
)
def test_tampered_group_keys_and_ids_are_not_found(path, bad, frozen_today):
    frozen_today(TODAY)
    world = build_world()
    client = Client(raise_request_exception=False)
    client.force_login(world.users["purchaser"])
    before = _state()
    assert client.get(path.format(bad=bad)).status_code == 404
    posted = client.post(path.format(bad=bad))
    # A checkout form for a group that is not in the cart goes back to the cart with a message.
    assert (posted.status_code, posted.get("Location")) in ((404, None), (302, "/billing/cart/"))
    assert _state() == before


def test_a_replayed_checkout_form_charges_once(frozen_today):
    frozen_today(TODAY)
    world = build_world()
    client = Client()
    client.force_login(world.users["purchaser"])
    form = {"method": "card", "card_number": "4242424242424242", "idempotency_key": "form-1"}
    path = f"/billing/cart/checkout/{world.group}/"
    first = client.post(path, form)
    orders, payments = Order.objects.count(), Payment.objects.count()
    replays = [client.post(path, form) for _ in range(3)]
    assert first.status_code == 302
    assert [r.status_code < 500 for r in replays] == [True] * 3
    assert (Order.objects.count(), Payment.objects.count()) == (orders, payments)


@pytest.mark.postgres  # SQLite stores NUL; PostgreSQL refuses it
def test_a_nul_character_the_database_refuses_is_a_400_in_words(frozen_today):
    frozen_today(TODAY)
    world = build_world()
    client = Client()
    client.force_login(world.users["purchaser"])
    before = _state()
    try:
        with transaction.atomic():
            response = client.post("/account/tokens/new/", {"name": "my\x00token"})
            raise _Undo
    except _Undo:
        pass
    assert response.status_code == 400
    html = response.content.decode()
    assert "The request contains a character that is not allowed." in html
    assert '<html lang="en">' in html and "/static/portal/portal.css" in html  # the product page
    assert _state() == before

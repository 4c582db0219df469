"""The Summary and the daily run share one "renews automatically" (R9, R12, R17, #16).

What the Summary lists as needing a manual renewal, and as auto-renewing without a card, is
exactly what the daily run of D does not charge or invoice: the same query
(`subscriptions/queries.renews_automatically_q`) decides both.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from renewals.lifecycle import daily
from renewals.lifecycle.models import ChargeAttempt
from tests.factories import CardFactory, PartnerFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)
D = TODAY + timedelta(days=10)

# id: (subscription fields, charged or invoiced on D, listed as auto-renewing without a card)
CASES = {
    "CARD-ON": ({"auto_renew": True}, True, False),
    "CARD-OFF": ({"auto_renew": False}, False, False),
    "NO-CARD-ON": ({"auto_renew": True, "card": None}, False, True),
    "REMOVED-CARD-ON": ({"auto_renew": True, "card": "removed"}, False, True),
    "INVOICE-ON": (
        {"auto_renew": True, "purchase_method": "invoice", "payment_method": "invoice"},
        True,  # invoiced on D (R9): not a manual renewal, and no card is missing
        False,
    ),
    "INVOICE-OFF": (
        {"auto_renew": False, "purchase_method": "invoice", "payment_method": "invoice"},
        False,
        False,
    ),
    "PARTNER-ON": (
        {"auto_renew": True, "purchase_method": "partner", "payment_method": None},
        False,
        False,
    ),
    "PARTNER-OFF": (
        {"auto_renew": False, "purchase_method": "partner", "payment_method": None},
        False,
        False,
    ),
    "KONBINI-ON": (
        {"auto_renew": True, "payment_method": "konbini", "currency": "JPY"},
        False,  # R9: never charged automatically; choosing a card would make it renew
        True,
    ),
    "KONBINI-OFF": (
        {"auto_renew": False, "payment_method": "konbini", "currency": "JPY"},
        False,
        False,
    ),
    "TRIAL-ON": ({"auto_renew": True, "trial": True}, False, False),
}


@pytest.fixture
def user(client):
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


def make(user, sub_id, fields):
    fields = dict(fields)
    if fields.get("card") == "removed":
        fields["card"] = CardFactory(user=user, token="pm_gone", removed=timezone.now())
    if fields.get("purchase_method") == "partner":
        fields["partner"] = PartnerFactory()
    return priced_subscription(id=sub_id, purchaser=user, renewal_date=D, **fields)


def test_the_summary_lists_as_manual_exactly_what_the_daily_run_of_d_leaves(
    client, frozen_today, user
):
    for sub_id, (fields, _charged, _no_card) in CASES.items():
        make(user, sub_id, fields)
    frozen_today(TODAY)
    page = client.get("/").context

    run = daily.run_daily(D)

    charged = set(
        ChargeAttempt.objects.filter(term_start=D).values_list("subscription_id", flat=True)
    )
    assert charged == {sub_id for sub_id, case in CASES.items() if case[1]}
    assert run.counts["charges"] == {"succeeded": 1, "invoiced": 1}
    not_trials = {sub_id for sub_id, (fields, _c, _n) in CASES.items() if not fields.get("trial")}
    manual = {s.pk for s in page["upcoming"]}
    assert manual == not_trials - charged
    assert page["upcoming_count"] == len(not_trials) - len(charged)
    assert {s.pk for s in page["missing_card"]} == {k for k, case in CASES.items() if case[2]}
    assert page["missing_card_count"] == 3

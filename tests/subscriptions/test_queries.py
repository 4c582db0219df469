"""The one read layer of subscriptions: filters, the scoped lookup, "renews automatically"."""

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone

from renewals.lifecycle import schedule
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.queries import (
    SubscriptionFilters,
    filter_subscriptions,
    renews_automatically_q,
    visible_subscription,
)
from tests.factories import (
    CardFactory,
    MembershipFactory,
    OfferingFactory,
    PartnerFactory,
    SubscriptionFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


def _ids(qs):
    return [s.pk for s in qs]


@pytest.fixture
def user():
    return UserFactory(email="marie@dupont.example")


@pytest.fixture
def visible(user):
    acad = OfferingFactory(code="ACAD", name="Academic")
    cam = OfferingFactory(code="CAM", name="Camera")
    SubscriptionFactory(
        id="A", purchaser=user, offering=acad, currency="EUR", renewal_date=date(2026, 6, 10)
    )
    SubscriptionFactory(
        id="B",
        purchaser=user,
        offering=cam,
        currency="JPY",
        auto_renew=True,
        renewal_date=date(2026, 7, 20),
    )
    SubscriptionFactory(
        id="C", purchaser=user, offering=acad, currency="USD", renewal_date=date(2026, 5, 1)
    )
    SubscriptionFactory(id="OTHER", offering=acad)  # another customer's
    return Subscription.objects.visible_to(user)


@pytest.mark.parametrize(
    "filters, expected",
    [
        (SubscriptionFilters(), ["C", "A", "B"]),
        # One rule for the product code everywhere: without regard to case.
        (SubscriptionFilters(product="acad"), ["C", "A"]),
        (SubscriptionFilters(product="ACAD"), ["C", "A"]),
        (SubscriptionFilters(currency="jpy"), ["B"]),
        (SubscriptionFilters(auto_renew=True), ["B"]),
        (SubscriptionFilters(auto_renew=False), ["C", "A"]),
        # within: D from today to today + N, inclusive.
        (SubscriptionFilters(within=9), ["A"]),
        (SubscriptionFilters(within=8), []),
        (SubscriptionFilters(renewal_date_after=date(2026, 6, 10)), ["A", "B"]),
        (SubscriptionFilters(renewal_date_before=date(2026, 6, 10)), ["C", "A"]),
        (SubscriptionFilters(stage="suspended"), ["C"]),
        (SubscriptionFilters(stage="expired"), []),
        (SubscriptionFilters(q="camera"), ["B"]),
        (SubscriptionFilters(ordering="-renewal_date"), ["B", "A", "C"]),
        (SubscriptionFilters(ordering="product"), ["A", "C", "B"]),
    ],
)
def test_filter_subscriptions_narrows_in_sql(visible, user, filters, expected):
    assert _ids(filter_subscriptions(visible, filters, today=TODAY, user=user)) == expected


@pytest.mark.parametrize(
    "query",
    [
        "product=acad",
        "currency=jpy",
        "auto_renew=true",
        "renewable=true",
        "renewable=false",
        "stage=suspended",
        "q=camera",
        "ordering=-renewal_date",
    ],
)
def test_the_portal_and_the_api_answer_the_same_filter_alike(
    visible, user, client, frozen_today, query
):
    """One filter behind both lists (#16): same parameters, same rows, same order."""
    frozen_today(TODAY)  # the portal hides cancelled rows by default (#17): none is, on TODAY
    from renewals.api.tokens import create_token

    priced_subscription(id="R", purchaser=user, renewal_date=TODAY + timedelta(days=20))
    _token, raw = create_token(user=user, name="test")
    api = client.__class__(headers={"Authorization": f"Bearer {raw}"})
    client.force_login(user)
    portal_query = (
        query.replace("auto_renew=true", "auto_renew=on")
        .replace("renewable=true", "renewable=yes")
        .replace("renewable=false", "renewable=no")
        .replace("ordering=", "sort=")
    )
    portal = client.get(f"/billing/subscriptions/?{portal_query}")
    assert portal.status_code == 200
    assert not portal.context["form"].errors
    api_rows = api.get(f"/api/v1/subscriptions?{query}").json()["results"]
    assert [r["id"] for r in api_rows] == [sub.pk for sub, _offer in portal.context["rows"]]


def test_renewable_filter_needs_the_user_asking(visible):
    with pytest.raises(ValueError):
        filter_subscriptions(visible, SubscriptionFilters(renewable=True), today=TODAY)


def test_visible_subscription_is_scoped_and_refuses_impossible_ids(user):
    mine = SubscriptionFactory(id="MINE", purchaser=user)
    SubscriptionFactory(id="THEIRS")
    admin_of = SubscriptionFactory(id="CSN-ADMIN")
    MembershipFactory(user=user, customer=admin_of.customer)
    assert visible_subscription(user, "MINE") == mine
    assert visible_subscription(user, "CSN-ADMIN") == admin_of
    for sub_id in ["THEIRS", "", None, "x" * 65, "MI\x00NE", "NOPE"]:
        with pytest.raises(Subscription.DoesNotExist):
            visible_subscription(user, sub_id)


def test_renews_automatically_query_agrees_with_the_schedule_rule(user):
    """The SQL form (Summary, daily run) and the pure rule (notices, charges) never drift."""
    card = CardFactory(user=user)
    removed = CardFactory(user=user, token="pm_removed", removed=timezone.now())
    partner = PartnerFactory()
    combos = itertools.product(
        [True, False],  # auto_renew
        [True, False],  # trial
        ["online", "invoice", "partner"],
        ["card", "konbini", "invoice"],
        ["card", "removed", None],
    )
    expected = set()
    for n, (auto, trial, purchase, payment, saved) in enumerate(combos):
        if saved and payment != "card":
            continue  # the database refuses a card on another method
        sub = SubscriptionFactory(
            id=f"S{n}",
            purchaser=user,
            auto_renew=auto,
            trial=trial,
            purchase_method=purchase,
            partner=partner if purchase == "partner" else None,
            payment_method=payment,
            card={"card": card, "removed": removed, None: None}[saved],
            renewal_date=TODAY + timedelta(days=10),
        )
        facts = schedule.Facts(
            renewal_date=sub.renewal_date,
            lapse_date=sub.lapse_date,
            term=sub.term,
            trial=trial,
            auto_renew=auto,
            purchase_method=purchase,
            payment_method=payment,
            has_card=saved == "card",
            sellable=True,
        )
        if schedule.renews_automatically(facts):
            expected.add(sub.pk)
    found = set(Subscription.objects.filter(renews_automatically_q()).values_list("pk", flat=True))
    assert found == expected
    assert expected  # both answers are non-trivial
    assert len(expected) < Subscription.objects.count()


def test_summary_does_not_call_an_invoice_auto_renewal_an_upcoming_expiration(
    client, user, frozen_today
):
    """Bug removed (#16): the Summary had its own copy of R12 that forgot invoices (R9)."""
    frozen_today(TODAY)
    client.force_login(user)
    soon = TODAY + timedelta(days=5)
    priced_subscription(
        id="INVOICED",
        purchaser=user,
        auto_renew=True,
        purchase_method="invoice",
        payment_method="invoice",
        renewal_date=soon,
    )
    priced_subscription(
        id="CARD-REMOVED",
        purchaser=user,
        auto_renew=True,
        card=CardFactory(user=user, token="pm_gone", removed=timezone.now()),
        renewal_date=soon,
    )
    priced_subscription(id="CHARGED", purchaser=user, auto_renew=True, renewal_date=soon)
    priced_subscription(id="MANUAL", purchaser=user, renewal_date=soon)
    response = client.get("/")
    assert sorted(s.pk for s in response.context["upcoming"]) == ["CARD-REMOVED", "MANUAL"]

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.checkout.offers import renewal_offers
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    PartnerFactory,
    SubscriptionFactory,
    UserFactory,
    priced_subscription,
)

from .conftest import TODAY, client_for, error_of

pytestmark = pytest.mark.django_db

SUBSCRIPTION_FIELDS = {
    "id", "csn", "customer_name", "product", "term", "seats", "currency", "start_date",
    "renewal_date", "stage", "access", "auto_renew", "purchase_method", "payment_method",
    "purchaser", "partner", "trial", "renewal", "scheduled_change", "terms",
}  # fmt: skip


def test_detail_has_exactly_the_interface_fields(api, user, customer, today):
    sub = priced_subscription(
        id="SUB-1001", customer=customer, purchaser=user, renewal_date=date(2027, 1, 31), seats=3
    )
    response = api.get("/api/v1/subscriptions/SUB-1001")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SUBSCRIPTION_FIELDS
    assert body["id"] == "SUB-1001"
    assert body["csn"] == "5100000001"
    assert body["stage"] == "active"
    assert body["purchaser"] == "marie@dupont.example"
    assert body["payment_method"] == {"type": "card", "last4": "4242"}
    assert body["renewal"] == {
        "eligible": True,
        "reasons": [],
        "window_opens": "2026-11-02",
        "window_closes": "2027-03-16",
        "unit_price": {"amount": "1890.00", "currency": "EUR"},
        "price": {"amount": "5670.00", "currency": "EUR"},
        "price_kind": "renewal",
        "seats": 3,  # R21: the next term's seats and term (no change scheduled)
        "term": "annual",
        "next_term": {"start": "2027-01-31", "end": "2028-01-31"},
    }
    assert body["terms"] == [
        {"start": "2026-01-31", "end": "2027-01-31", "order": None, "seats": None, "term": "annual"}
    ]
    assert sub.pk == body["id"]


def test_jpy_amounts_have_no_decimals(api, user, customer, today):
    priced_subscription(
        id="SUB-JP",
        customer=customer,
        purchaser=user,
        currency="JPY",
        payment_method="konbini",
        list_price="52800",
        renewal_price="48000",
        seats=1,
        renewal_date=date(2027, 1, 31),
    )
    body = api.get("/api/v1/subscriptions/SUB-JP").json()
    assert body["renewal"]["unit_price"] == {"amount": "48000", "currency": "JPY"}
    assert body["payment_method"] == {"type": "konbini", "last4": None}


@pytest.mark.parametrize(
    ("renewal_date", "eligible", "reasons"),
    [
        (TODAY + timedelta(days=91), False, ["too_early"]),  # D-91
        (TODAY + timedelta(days=90), True, []),  # D-90: the window opens
        (TODAY - timedelta(days=44), True, []),  # D+44: last renewable day (annual)
        (TODAY - timedelta(days=45), False, ["cancelled"]),  # D+45
    ],
)
def test_renewal_window_boundaries(api, user, customer, today, renewal_date, eligible, reasons):
    priced_subscription(id="SUB-W", customer=customer, purchaser=user, renewal_date=renewal_date)
    renewal = api.get("/api/v1/subscriptions/SUB-W").json()["renewal"]
    assert (renewal["eligible"], renewal["reasons"]) == (eligible, reasons)


def test_another_customers_subscription_is_404(api, today):
    SubscriptionFactory(id="SUB-OTHER")
    response = api.get("/api/v1/subscriptions/SUB-OTHER")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert api.get("/api/v1/subscriptions/NOPE").status_code == 404
    patch = api.patch(
        "/api/v1/subscriptions/SUB-OTHER", {"auto_renew": True}, content_type="application/json"
    )
    assert patch.status_code == 404
    assert Subscription.objects.get(pk="SUB-OTHER").auto_renew is False


def test_admin_of_the_csn_sees_but_may_not_renew(customer, today):
    admin = UserFactory()
    MembershipFactory(user=admin, customer=customer)
    priced_subscription(id="SUB-A", customer=customer, renewal_date=date(2027, 1, 31))
    body = client_for(admin).get("/api/v1/subscriptions/SUB-A").json()
    assert body["renewal"]["reasons"] == ["not_purchaser"]


def test_list_is_paginated_with_links(api, user, customer, today):
    for n in range(5):
        SubscriptionFactory(
            id=f"SUB-{n}", customer=customer, purchaser=user, renewal_date=date(2027, 1, 1 + n)
        )
    first = api.get("/api/v1/subscriptions?page_size=2").json()
    assert first["count"] == 5
    assert [s["id"] for s in first["results"]] == ["SUB-0", "SUB-1"]
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/v1/subscriptions?page=2&page_size=2"
    last = api.get("/api/v1/subscriptions?page_size=2&page=3").json()
    assert [s["id"] for s in last["results"]] == ["SUB-4"]
    assert last["next"] is None
    assert last["previous"] == "http://testserver/api/v1/subscriptions?page=2&page_size=2"
    beyond = api.get("/api/v1/subscriptions?page_size=2&page=9").json()
    assert beyond["results"] == [] and beyond["count"] == 5


@pytest.mark.parametrize(
    "query",
    [
        "page_size=501",
        "page_size=0",
        "page=0",
        "page=abc",
        "stage=dormant",
        "term=weekly",
        "ordering=seats",
        "renewable=maybe",
        "renewal_date_before=2026-02-30",
        "auto_renew=2",
    ],
)
def test_bad_query_values_are_400_json(api, today, query):
    response = api.get(f"/api/v1/subscriptions?{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["details"][0]["field"] == query.split("=")[0] or error["details"]


def _ids(api, query):
    response = api.get(f"/api/v1/subscriptions?page_size=500&{query}")
    assert response.status_code == 200, response.content
    return [s["id"] for s in response.json()["results"]]


def test_every_filter_search_and_ordering(api, user, customer, today):
    other_customer = CustomerFactory(csn="5100000002", name="Kobo Tanaka")
    MembershipFactory(user=user, customer=other_customer)
    priced_subscription(
        id="A-ACTIVE", customer=customer, purchaser=user, renewal_date=date(2027, 1, 15),
        offering__code="ACAD", offering__name="AutoCAD", auto_renew=True,
    )  # fmt: skip
    SubscriptionFactory(
        id="B-EXPIRED", customer=customer, purchaser=user, renewal_date=date(2026, 11, 20),
        offering__code="MAYA", offering__name="Maya", term="monthly",
    )  # fmt: skip
    SubscriptionFactory(
        id="C-CANCELLED", customer=other_customer, renewal_date=date(2026, 9, 1),
        offering__code="REVIT", offering__name="Revit",
    )  # fmt: skip
    SubscriptionFactory(
        id="D-SUSPENDED", customer=other_customer, purchaser=user, renewal_date=date(2026, 11, 1),
        offering__code="ACAD",
    )  # fmt: skip
    assert _ids(api, "") == ["C-CANCELLED", "D-SUSPENDED", "B-EXPIRED", "A-ACTIVE"]
    assert _ids(api, "stage=active") == ["A-ACTIVE"]
    assert _ids(api, "stage=expired") == ["B-EXPIRED"]
    assert _ids(api, "stage=suspended") == ["D-SUSPENDED"]
    assert _ids(api, "stage=cancelled") == ["C-CANCELLED"]
    assert _ids(api, "csn=5100000002") == ["C-CANCELLED", "D-SUSPENDED"]
    assert _ids(api, "product=ACAD") == ["D-SUSPENDED", "A-ACTIVE"]
    assert _ids(api, "term=monthly") == ["B-EXPIRED"]
    assert _ids(api, "auto_renew=true") == ["A-ACTIVE"]
    assert _ids(api, "auto_renew=false") == ["C-CANCELLED", "D-SUSPENDED", "B-EXPIRED"]
    assert _ids(api, "renewal_date_before=2026-11-20") == [
        "C-CANCELLED",
        "D-SUSPENDED",
        "B-EXPIRED",
    ]
    assert _ids(api, "renewal_date_after=2026-11-20") == ["B-EXPIRED", "A-ACTIVE"]
    assert _ids(api, "q=tanaka") == ["C-CANCELLED", "D-SUSPENDED"]
    assert _ids(api, "q=autocad") == ["D-SUSPENDED", "A-ACTIVE"]  # same offering
    assert _ids(api, "q=b-exp") == ["B-EXPIRED"]
    # D-SUSPENDED has ACAD's price; B-EXPIRED (no price) and C-CANCELLED are not renewable.
    assert _ids(api, "renewable=true") == ["D-SUSPENDED", "A-ACTIVE"]
    assert _ids(api, "renewable=false") == ["C-CANCELLED", "B-EXPIRED"]
    assert _ids(api, "ordering=-renewal_date") == [
        "A-ACTIVE",
        "B-EXPIRED",
        "D-SUSPENDED",
        "C-CANCELLED",
    ]
    assert _ids(api, "ordering=id") == ["A-ACTIVE", "B-EXPIRED", "C-CANCELLED", "D-SUSPENDED"]
    assert _ids(api, "ordering=product") == ["A-ACTIVE", "D-SUSPENDED", "B-EXPIRED", "C-CANCELLED"]


def test_renewable_filter_agrees_with_the_offer_for_every_reason(user, customer, today):
    """The SQL filter mirrors R5; each subscription here fails one reason (or none)."""
    from renewals.subscriptions.queries import SubscriptionFilters, subscriptions_for

    other = UserFactory()
    MembershipFactory(user=user, customer=customer)
    d = date(2027, 1, 31)
    cases = {
        "OK": dict(purchaser=user),
        "NOT-PURCHASER": dict(purchaser=other),
        "PARTNER": dict(purchaser=user, purchase_method="partner", partner=PartnerFactory()),
        "TRIAL": dict(purchaser=user, trial=True),
        "CANCELLED": dict(purchaser=user, renewal_date=TODAY - timedelta(days=45)),
        "LAST-DAY": dict(purchaser=user, renewal_date=TODAY - timedelta(days=44)),
        "TOO-EARLY": dict(purchaser=user, renewal_date=TODAY + timedelta(days=91)),
        "OPENS-TODAY": dict(purchaser=user, renewal_date=TODAY + timedelta(days=90)),
    }
    for sub_id, kwargs in cases.items():
        priced_subscription(id=sub_id, customer=customer, **{"renewal_date": d, **kwargs})
    SubscriptionFactory(id="NOT-SELLABLE", customer=customer, purchaser=user, currency="USD")
    visible = Subscription.objects.visible_to(user)
    offers = renewal_offers(visible, user=user, today=today)
    expected = sorted(i for i, o in offers.items() if o.eligible)
    assert expected == ["LAST-DAY", "OK", "OPENS-TODAY"]
    found = subscriptions_for(user, SubscriptionFilters(renewable=True), today=today)
    assert sorted(s.pk for s in found) == expected
    refused = subscriptions_for(user, SubscriptionFilters(renewable=False), today=today)
    assert sorted(s.pk for s in refused) == sorted(set(offers) - set(expected))


def test_list_of_10000_uses_a_fixed_number_of_queries(api, user, customer, today):
    sub = priced_subscription(id="SUB-00000", customer=customer, purchaser=user)
    rows = [
        Subscription(
            id=f"SUB-{n:05d}",
            customer=customer,
            offering=sub.offering,
            term="annual",
            seats=1 + n % 7,
            currency="EUR",
            start_date=date(2026, 1, 1) + timedelta(days=n % 300),
            renewal_date=date(2027, 1, 1) + timedelta(days=n % 300),
            lapse_date=date(2027, 1, 1) + timedelta(days=n % 300),
            purchase_method="online",
            payment_method="card",
            card=sub.card,
            purchaser=user,
        )  # fmt: skip
        for n in range(1, 10_000)
    ]
    Subscription.objects.bulk_create(rows, batch_size=2000)
    Term.objects.bulk_create(
        [Term(subscription=r, start=r.start_date, end=r.renewal_date) for r in rows[:1000]],
        batch_size=2000,
    )
    api.get("/api/v1/subscriptions?page_size=1")  # records the token's last use
    with CaptureQueriesContext(connection) as ctx:
        response = api.get("/api/v1/subscriptions?page_size=500&page=2")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 10_000
    assert len(body["results"]) == 500
    # token, rate counter, count, the page (customers, offerings, purchasers, partners and
    # cards joined, its open orders as EXISTS columns, read as values: #15), terms, prices:
    # whatever the page size.
    assert len(ctx.captured_queries) <= 6, [q["sql"][:80] for q in ctx.captured_queries]
    # The page's keys are a subquery: no statement lists the page's ids (#15); the terms are
    # read by the ids read (one array parameter on PostgreSQL), so only that one may.
    listed = {r["id"] for r in body["results"]}
    naming = [q["sql"] for q in ctx.captured_queries if any(i in q["sql"] for i in listed)]
    assert len(naming) <= 1 and all("subscriptions_term" in sql for sql in naming)
    with CaptureQueriesContext(connection) as small:
        api.get("/api/v1/subscriptions?page_size=5")
    assert len(small.captured_queries) == len(ctx.captured_queries)


def test_a_list_page_is_read_as_values_and_answers_what_the_models_answer(
    api, user, customer, today
):
    """#15: a page builds no Subscription instance; its rows answer the model path's JSON."""
    from django.db.models.signals import post_init

    from renewals.shapes import subscription_json

    priced_subscription(
        id="SUB-V1", customer=customer, purchaser=user, renewal_date=today + timedelta(days=20),
        lapse_date=today + timedelta(days=20), seats=3, auto_renew=True,
        scheduled_change={"for": (today + timedelta(days=20)).isoformat(), "seats": 5},
    )  # fmt: skip
    priced_subscription(
        id="SUB-V2", customer=customer, purchaser=user, purchase_method="partner",
        partner=PartnerFactory(), renewal_date=today - timedelta(days=20),
        lapse_date=today - timedelta(days=20),
    )  # fmt: skip
    built = []

    def count(sender, **kwargs):
        built.append(sender)

    post_init.connect(count, sender=Subscription)
    try:
        body = api.get("/api/v1/subscriptions?ordering=id").json()
    finally:
        post_init.disconnect(count, sender=Subscription)
    assert built == []
    subs = list(Subscription.objects.filter(pk__in=["SUB-V1", "SUB-V2"]).order_by("id"))
    offers = renewal_offers(subs, user=user, today=today)
    assert body["results"] == [subscription_json(s, offers[s.pk]) for s in subs]
    assert body["results"][0]["renewal"]["seats"] == 5
    assert body["results"][1]["partner"] is not None


def test_patch_turns_auto_renew_off_and_answers_the_subscription(
    api, user, customer, today, django_capture_on_commit_callbacks
):
    from django.core import mail

    priced_subscription(id="SUB-AR", customer=customer, purchaser=user, auto_renew=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(
            "/api/v1/subscriptions/SUB-AR", {"auto_renew": False}, content_type="application/json"
        )
    assert response.status_code == 200
    assert response.json()["auto_renew"] is False
    assert Subscription.objects.get(pk="SUB-AR").auto_renew is False
    assert [m.extra_headers["X-Renewals-Event"] for m in mail.outbox] == ["auto-renew-changed"]


def test_patch_refused_says_why_and_changes_nothing(api, user, customer, today):
    SubscriptionFactory(
        id="SUB-K", customer=customer, purchaser=user, payment_method="konbini", currency="JPY"
    )
    response = api.patch(
        "/api/v1/subscriptions/SUB-K", {"auto_renew": True}, content_type="application/json"
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "auto_renew_refused"
    assert error["details"] == [{"id": "SUB-K", "reasons": ["payment_method_not_recurring"]}]
    assert Subscription.objects.get(pk="SUB-K").auto_renew is False


def test_bulk_auto_renew_answers_per_id(
    api, user, customer, today, django_capture_on_commit_callbacks
):
    from django.core import mail

    for n in range(3):
        priced_subscription(id=f"SUB-B{n}", customer=customer, purchaser=user, auto_renew=True)
    SubscriptionFactory(id="SUB-HIDDEN", auto_renew=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/subscriptions/auto-renew",
            {"subscription_ids": ["SUB-B0", "SUB-B1", "SUB-B2", "SUB-HIDDEN"], "auto_renew": False},
            content_type="application/json",
        )
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"id": "SUB-B0", "ok": True, "reasons": []},
            {"id": "SUB-B1", "ok": True, "reasons": []},
            {"id": "SUB-B2", "ok": True, "reasons": []},
            {"id": "SUB-HIDDEN", "ok": False, "reasons": ["not_found"]},
        ]
    }
    assert Subscription.objects.filter(auto_renew=True).values_list("pk", flat=True).get() == (
        "SUB-HIDDEN"
    )
    assert [m.extra_headers["X-Renewals-Event"] for m in mail.outbox] == ["auto-renew-changed"]
    assert mail.outbox[0].extra_headers["X-Renewals-Subscriptions"] == "SUB-B0,SUB-B1,SUB-B2"


def test_bulk_auto_renew_over_100_is_422_too_many_and_changes_nothing(api, user, customer, today):
    priced_subscription(id="SUB-X", customer=customer, purchaser=user, auto_renew=True)
    ids = ["SUB-X"] + [f"SUB-N{n}" for n in range(100)]
    response = api.post(
        "/api/v1/subscriptions/auto-renew",
        {"subscription_ids": ids, "auto_renew": False},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "too_many"
    assert Subscription.objects.get(pk="SUB-X").auto_renew is True


@pytest.mark.parametrize(
    "body",
    ['{"auto_renew": "perhaps"}', "{}", "not json", '{"auto_renew": null}', "[1, 2]"],
)
def test_malformed_bodies_are_json_errors(api, user, customer, today, body):
    priced_subscription(id="SUB-M", customer=customer, purchaser=user)
    for url, method in [
        ("/api/v1/subscriptions/SUB-M", api.patch),
        ("/api/v1/subscriptions/auto-renew", api.post),
    ]:
        response = method(url, body, content_type="application/json")
        assert response.status_code in (400, 422)
        error_of(response)
    assert Subscription.objects.get(pk="SUB-M").auto_renew is False


def test_unknown_api_path_is_json_404(api):
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_decimal_prices_are_exact(api, user, customer, today):
    priced_subscription(
        id="SUB-D", customer=customer, purchaser=user, seats=7,
        renewal_price="0.35", list_price="0.50", renewal_date=date(2027, 1, 31),
    )  # fmt: skip
    renewal = api.get("/api/v1/subscriptions/SUB-D").json()["renewal"]
    assert renewal["price"] == {"amount": "2.45", "currency": "EUR"}
    assert Decimal(renewal["price"]["amount"]) == Decimal("0.35") * 7

"""#15: the list page's JSON is, byte for byte, what each subscription computed on its own answers.

The page is read as rows, its offers decided once per set of equal facts and its `renewal`
objects built once per decision (shared by rows); the reference here reads model instances
and decides and shapes each subscription alone, with no sharing. Every ordering, pages cut
across runs of equal facts, on SQLite and PostgreSQL.
"""

from datetime import timedelta
from decimal import Decimal
from itertools import count
from urllib.parse import quote

import pytest
from django.db import connections

from renewals import rows
from renewals.api.endpoints.subscriptions import json_response
from renewals.checkout.models import Order, OrderLine
from renewals.checkout.offers import renewal_offers
from renewals.shapes import subscription_json
from renewals.subscriptions.models import Subscription, Term
from renewals.subscriptions.queries import ORDERINGS, SubscriptionFilters, subscriptions_for
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    PartnerFactory,
    PriceFactory,
    SubscriptionFactory,
    UserFactory,
)

from .conftest import TODAY

pytestmark = pytest.mark.django_db
ORDER_NUMBERS = count(1)


def _order_line(sub, *, status, automatic=False, holds_term=True):
    order = Order.objects.create(
        number=f"JSON-{next(ORDER_NUMBERS)}", customer=sub.customer, currency=sub.currency,
        purchase_method=sub.purchase_method, payment_method="card", status=status,
        automatic=automatic, subtotal=Decimal("10"), tax=Decimal("1"), total=Decimal("11"),
        tax_rate=Decimal("0.10"), business_date=TODAY,
    )  # fmt: skip
    OrderLine.objects.create(
        order=order, subscription=sub, seats=sub.seats, unit_price=Decimal("10"),
        price_kind="list", amount=Decimal("10"), term_start=sub.renewal_date,
        term_end=sub.renewal_date + timedelta(days=365), holds_term=holds_term,
    )  # fmt: skip


def varied_account(user, customer) -> int:
    """Create subscriptions that differ in every fact an offer reads, each in runs of equal
    facts (same dates, term, offering, seats…) that only their ids and customers tell apart;
    return their number."""
    admin_of = CustomerFactory(csn="5100000009", name="Ōsaka Kōbō")
    MembershipFactory(user=user, customer=admin_of, role="admin")
    acad = OfferingFactory(code="ACAD", name="AutoCAD")
    maya = OfferingFactory(code="MAYA", name="Maya")
    for offering, term, currency, list_price, renewal_price in [
        (acad, "annual", "EUR", "2100.00", "1890.00"),
        (acad, "monthly", "EUR", "210.00", "189.00"),
        (acad, "three_year", "EUR", "5600.00", "5040.50"),
        (maya, "annual", "JPY", "52800", "47520"),
        (maya, "monthly", "JPY", "5280", "4752"),
    ]:
        PriceFactory(
            offering=offering, term=term, currency=currency,
            list_price=Decimal(list_price), renewal_price=Decimal(renewal_price),
        )  # fmt: skip
    # A price no longer sold: the subscriptions of it are not sellable.
    PriceFactory(offering=maya, term="three_year", currency="JPY", active=False)
    partner = PartnerFactory()
    kinds = [
        # (renewal date from today, term, offering, currency, extra fields)
        (20, "annual", acad, "EUR", {}),  # window open, renewal price
        (120, "annual", acad, "EUR", {}),  # window not yet open
        (-5, "annual", acad, "EUR", {"auto_renew": True}),  # expired, list price
        (-20, "annual", maya, "JPY", {"payment_method": "konbini"}),  # suspended
        (-60, "annual", acad, "EUR", {}),  # cancelled
        (10, "monthly", acad, "EUR", {}),
        (-3, "monthly", maya, "JPY", {"seats": 7}),
        (30, "three_year", acad, "EUR", {"seats": 12}),
        (25, "three_year", maya, "JPY", {}),  # price inactive: not sellable
        (40, "annual", acad, "USD", {}),  # no price in USD
        (15, "annual", acad, "EUR", {"trial": True}),
        (15, "annual", acad, "EUR", {"purchase_method": "partner", "partner": partner}),
        (15, "annual", acad, "EUR", {"purchase_method": "invoice", "payment_method": "invoice"}),
        (15, "annual", acad, "EUR", {"payment_method": None, "card": None}),
        (15, "annual", acad, "EUR", {"customer": admin_of, "purchaser": UserFactory()}),
        (50, "annual", acad, "EUR", {"scheduled": {"seats": 9, "term": "monthly"}}),
        (50, "annual", acad, "EUR", {"scheduled": {"seats": 4}, "scheduled_for_other_d": True}),
        (12, "annual", acad, "EUR", {"order": "pending_payment"}),
        (-2, "annual", acad, "EUR", {"order": "failed", "auto_renew": True}),
        (-2, "annual", acad, "EUR", {"order": "failed", "auto_renew": False}),
        (-40, "annual", acad, "EUR", {"order": "failed", "auto_renew": True}),
    ]
    n = 0
    for days, term, offering, currency, extra in kinds:
        extra = dict(extra)
        scheduled = extra.pop("scheduled", None)
        other_d = extra.pop("scheduled_for_other_d", False)
        order = extra.pop("order", None)
        auto = order == "failed"
        renewal = TODAY + timedelta(days=days)
        for copy in range(3):  # three of each: equal facts, told apart by id and terms only
            fields = {
                "customer": customer, "purchaser": user, "offering": offering, "term": term,
                "currency": currency, "renewal_date": renewal, "lapse_date": renewal, **extra,
            }  # fmt: skip
            if scheduled is not None:
                d = renewal + timedelta(days=365) if other_d else renewal
                fields["scheduled_change"] = {"for": d.isoformat(), **scheduled}
            sub = SubscriptionFactory(id=f"S-{n:03d}-{copy}", **fields)
            if copy == 2:  # an older term with its order and seats
                Term.objects.create(
                    subscription=sub, start=sub.start_date - timedelta(days=365),
                    end=sub.start_date, order_number=f"ORD-{n}", seats=2,
                )  # fmt: skip
            if order is not None:
                _order_line(sub, status=order, automatic=auto, holds_term=not auto)
        n += 1
    return 3 * n


def reference_page(user, today, ordering: str, page: int, page_size: int) -> list[dict]:
    """The page computed per subscription: model instances, one `renewal_offers` call and one
    `subscription_json` each."""
    qs = subscriptions_for(user, SubscriptionFilters(ordering=ordering), today=today)
    start = (page - 1) * page_size
    related = qs.select_related("customer", "offering", "purchaser", "partner", "card")
    subs = list(related.prefetch_related("terms")[start : start + page_size])
    return [subscription_json(s, renewal_offers([s], user=user, today=today)[s.pk]) for s in subs]


@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
def test_every_page_is_the_json_of_each_subscription_alone(api, user, customer, today, ordering):
    total = varied_account(user, customer)
    assert Subscription.objects.visible_to(user).count() == total
    for page_size, pages in [(500, [1]), (7, range(1, -(-total // 7) + 2))]:
        for page in pages:
            path = f"/api/v1/subscriptions?ordering={ordering}&page={page}&page_size={page_size}"
            response = api.get(path)
            assert response.status_code == 200
            body = response.json()
            expected = json_response(
                {
                    "count": total,
                    "next": body["next"],
                    "previous": body["previous"],
                    "results": reference_page(user, today, ordering, page, page_size),
                }
            ).content
            assert response.content == expected, (ordering, page, page_size)
    full = api.get(f"/api/v1/subscriptions?ordering={ordering}&page_size=500").json()["results"]
    # The fixture holds what it says: every stage, eligible or not, shared decisions.
    assert {r["stage"] for r in full} == {"active", "expired", "suspended", "cancelled"}
    assert {r["renewal"]["eligible"] for r in full} == {True, False}
    assert len({r["id"] for r in full}) == total


def test_the_page_statement_is_compiled_once_per_ordering_and_filters_stay_parameters(
    api, user, customer, today
):
    """The page's statement is compiled once per connection and ordering around its keys; the
    filters are in the keys subquery, their values bound parameters, whatever they contain."""
    odd = "S-%s-%%-" + rows.KEYS
    SubscriptionFactory(id=odd, customer=customer, purchaser=user)
    SubscriptionFactory(id="S-PLAIN", customer=customer, purchaser=user)
    statements = {o: rows.page_statement(connections["default"], ORDERINGS[o]) for o in ORDERINGS}
    assert len({id(s) for s in statements.values()}) == len(ORDERINGS)
    for ordering, statement in statements.items():
        for search, found in [
            (odd, [odd]),
            (rows.KEYS, [odd]),
            ("%", [odd]),
            ("", [odd, "S-PLAIN"]),
        ]:
            path = f"/api/v1/subscriptions?ordering={ordering}&q={quote(search)}"
            body = api.get(path).json()
            assert sorted(r["id"] for r in body["results"]) == sorted(found), (ordering, search)
            assert body["count"] == len(found)
        assert rows.page_statement(connections["default"], ORDERINGS[ordering]) is statement
        assert statement.before.count("%s") == len(statement.before_params)


def test_each_thread_compiles_the_page_statement_for_its_own_connection():
    # Django's connections are per thread; a thread's statements go with it (no leak).
    import threading

    ordering = ORDERINGS["id"]
    mine = rows.page_statement(connections["default"], ordering)
    seen = {}

    def other_thread():
        statement = rows.page_statement(connections["default"], ordering)
        seen["connection_is_its_own"] = statement.compiler.connection is connections["default"]
        seen["same_sql"] = (statement.before, statement.after) == (mine.before, mine.after)
        connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == {"connection_is_its_own": True, "same_sql": True}
    assert mine.compiler.connection is connections["default"]
    assert rows.page_statement(connections["default"], ordering) is mine

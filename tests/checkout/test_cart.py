"""The cart (R5, R6, R7): adding, refusing with reasons, the 100-line limit, priced groups."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.api.errors import STATUS
from renewals.checkout.cart import cart_groups
from renewals.checkout.cart_actions import add_to_cart, clear_cart, remove_from_cart
from renewals.checkout.models import CartLine
from renewals.core.errors import DomainError
from renewals.core.money import money
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    PartnerFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)


@pytest.fixture
def buyer():
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    return UserFactory(email="marie@dupont.example")


def _many(n, buyer, **kwargs):
    offering = OfferingFactory(code="ACAD", name="AutoCAD")
    customer = kwargs.pop("customer", None) or CustomerFactory(csn="5100000001")
    return [
        priced_subscription(
            id=f"SUB-{i:04d}", purchaser=buyer, customer=customer, offering=offering, **kwargs
        )
        for i in range(n)
    ]


def test_add_snapshots_what_the_user_was_shown(buyer):
    (sub,) = _many(1, buyer, seats=3)
    result = add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    assert (result.added, result.rejected) == ([sub.pk], [])
    line = CartLine.objects.get()
    assert (line.seats, line.unit_price, line.currency, line.price_kind) == (
        3,
        Decimal("1890.000"),
        "EUR",
        "renewal",
    )
    assert (line.term_start, line.term_end) == (date(2027, 3, 31), date(2028, 3, 31))


def test_adding_twice_keeps_one_line(buyer):
    (sub,) = _many(1, buyer)
    add_to_cart(user=buyer, subscription_ids=[sub.pk, sub.pk], today=TODAY)
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    assert CartLine.objects.count() == 1


def test_subscriptions_the_user_cannot_see_are_rejected_as_not_found(buyer):
    stranger_sub = priced_subscription(id="SUB-OTHER")
    result = add_to_cart(user=buyer, subscription_ids=["SUB-OTHER", "NOPE"], today=TODAY)
    assert result.added == []
    assert result.rejected == [("SUB-OTHER", ("not_found",)), ("NOPE", ("not_found",))]
    assert CartLine.objects.count() == 0
    assert stranger_sub.pk == "SUB-OTHER"


def test_ineligible_subscriptions_are_rejected_with_every_reason(buyer):
    admin = UserFactory()
    partner = PartnerFactory()
    trial = priced_subscription(id="SUB-T", purchaser=buyer, trial=True)
    early = priced_subscription(id="SUB-E", purchaser=buyer, renewal_date=date(2027, 6, 1))
    managed = priced_subscription(
        id="SUB-P", purchaser=buyer, purchase_method="partner", partner=partner
    )
    MembershipFactory(user=admin, customer=early.customer)
    result = add_to_cart(user=buyer, subscription_ids=["SUB-T", "SUB-E", "SUB-P"], today=TODAY)
    assert result.rejected == [
        ("SUB-T", ("trial",)),
        ("SUB-E", ("too_early",)),
        ("SUB-P", ("partner_managed",)),
    ]
    as_admin = add_to_cart(user=admin, subscription_ids=["SUB-E"], today=TODAY)
    assert as_admin.rejected == [("SUB-E", ("not_purchaser", "too_early"))]
    assert CartLine.objects.count() == 0
    assert trial.pk and managed.pk


def test_window_opens_exactly_on_d_minus_90(buyer):
    (sub,) = _many(1, buyer)  # D = 2027-03-31, D − 90 = 2026-12-31
    assert add_to_cart(user=buyer, subscription_ids=[sub.pk], today=date(2026, 12, 30)).rejected
    assert add_to_cart(user=buyer, subscription_ids=[sub.pk], today=date(2026, 12, 31)).added


def test_the_101st_subscription_is_refused_and_nothing_is_added(buyer):
    subs = _many(101, buyer)
    add_to_cart(user=buyer, subscription_ids=[s.pk for s in subs[:100]], today=TODAY)
    with pytest.raises(DomainError) as refused:
        add_to_cart(user=buyer, subscription_ids=[subs[100].pk], today=TODAY)
    assert (refused.value.code, STATUS[refused.value.code]) == ("too_many", 422)
    assert "at most 100" in refused.value.message
    assert CartLine.objects.count() == 100
    assert not CartLine.objects.filter(subscription=subs[100]).exists()


def test_a_bulk_selection_of_101_is_refused(buyer):
    subs = _many(101, buyer)
    with pytest.raises(DomainError) as refused:
        add_to_cart(user=buyer, subscription_ids=[s.pk for s in subs], today=TODAY)
    assert refused.value.code == "too_many"
    assert CartLine.objects.count() == 0


def test_adding_100_takes_a_fixed_number_of_queries(buyer, django_assert_num_queries):
    subs = _many(100, buyer)
    # savepoint, lock user, subscriptions, prices, open orders, cart, insert, audit, release
    with django_assert_num_queries(9):
        result = add_to_cart(user=buyer, subscription_ids=[s.pk for s in subs], today=TODAY)
    assert len(result.added) == 100


def test_remove_and_clear(buyer):
    a, b, c = _many(3, buyer)
    add_to_cart(user=buyer, subscription_ids=[a.pk, b.pk, c.pk], today=TODAY)
    assert remove_from_cart(user=buyer, subscription_id=a.pk) is True
    assert remove_from_cart(user=buyer, subscription_id=a.pk) is False
    assert clear_cart(user=buyer) == 2
    assert CartLine.objects.count() == 0


def test_groups_by_csn_currency_and_purchase_method_with_exact_totals(buyer):
    fr = CustomerFactory(csn="5100000001", country="FR")
    jp = CustomerFactory(csn="5200000002", country="JP")
    a = priced_subscription(id="SUB-A", purchaser=buyer, customer=fr, seats=3)
    b = priced_subscription(id="SUB-B", purchaser=buyer, customer=fr, seats=1, offering=a.offering)
    # late renewal: D passed, so the list price applies (R6)
    c = priced_subscription(
        id="SUB-C",
        purchaser=buyer,
        customer=fr,
        seats=2,
        renewal_date=date(2027, 2, 20),
        offering=a.offering,
    )
    y = priced_subscription(
        id="SUB-Y",
        purchaser=buyer,
        customer=jp,
        currency="JPY",
        seats=2,
        list_price="52800",
        renewal_price="48000",
    )
    add_to_cart(user=buyer, subscription_ids=["SUB-A", "SUB-Y", "SUB-B", "SUB-C"], today=TODAY)
    groups = cart_groups(user=buyer, today=TODAY)

    assert [g.key for g in groups] == ["5100000001:EUR:online", "5200000002:JPY:online"]
    eur, jpy = groups
    assert [(i.subscription.pk, i.offer.price_kind, i.offer.price) for i in eur.lines] == [
        ("SUB-A", "renewal", money("5670.00", "EUR")),
        ("SUB-B", "renewal", money("1890.00", "EUR")),
        ("SUB-C", "list", money("4200.00", "EUR")),
    ]
    assert (eur.subtotal, eur.tax, eur.total) == (
        money("11760.00", "EUR"),
        money("2352.00", "EUR"),
        money("14112.00", "EUR"),
    )
    assert eur.payment_methods == ["card"]
    assert (jpy.subtotal, jpy.tax, jpy.total) == (
        money("96000", "JPY"),
        money("9600", "JPY"),
        money("105600", "JPY"),
    )
    assert jpy.payment_methods == ["card", "konbini", "bank_transfer"]
    assert b.pk and c.pk and y.pk


def test_reverse_charge_group_has_zero_tax(buyer):
    de = CustomerFactory(csn="5300000003", country="DE", vat_id="DE1", vat_id_validated=True)
    TaxRateFactory(country="DE", rate=Decimal("0.19"))
    sub = priced_subscription(purchaser=buyer, customer=de, seats=1)
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    (group,) = cart_groups(user=buyer, today=TODAY)
    assert (group.tax, group.total, group.reverse_charge) == (
        money("0.00", "EUR"),
        money("1890.00", "EUR"),
        True,
    )


def test_a_line_that_became_ineligible_is_shown_apart_and_not_totalled(buyer):
    a, b = _many(2, buyer)
    add_to_cart(user=buyer, subscription_ids=[a.pk, b.pk], today=TODAY)
    # 45 days after D the annual subscriptions are cancelled (R2)
    later = date(2027, 5, 15)
    (group,) = cart_groups(user=buyer, today=later)
    assert group.lines == []
    assert [i.offer.reasons for i in group.blocked] == [("cancelled",), ("cancelled",)]
    assert group.total == money("0.00", "EUR") and group.payment_methods == []


def test_price_change_since_added_is_flagged(buyer):
    (sub,) = _many(1, buyer, seats=1)
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=date(2027, 3, 30))
    (group,) = cart_groups(user=buyer, today=date(2027, 3, 31))  # D: list price now
    (item,) = group.lines
    assert item.price_changed is True
    assert (item.seen_unit_price, item.offer.unit_price) == (
        money("1890.00", "EUR"),
        money("2100.00", "EUR"),
    )


def test_showing_a_cart_of_100_takes_a_fixed_number_of_queries(buyer, django_assert_num_queries):
    subs = _many(100, buyer)
    add_to_cart(user=buyer, subscription_ids=[s.pk for s in subs], today=TODAY)
    with django_assert_num_queries(5):
        groups = cart_groups(user=buyer, today=TODAY)
    assert groups[0].count == 100
    assert groups[0].subtotal == money("567000.00", "EUR")


def test_ids_no_subscription_can_have_are_not_found(buyer):
    result = add_to_cart(user=buyer, subscription_ids=["\x00", "X" * 65, ""], today=TODAY)
    assert result.added == []
    assert result.rejected == [
        ("\x00", ("not_found",)),
        ("X" * 65, ("not_found",)),
        ("", ("not_found",)),
    ]
    assert CartLine.objects.count() == 0


def test_removing_an_impossible_id_changes_nothing(buyer):
    (sub,) = _many(1, buyer)
    add_to_cart(user=buyer, subscription_ids=[sub.pk], today=TODAY)
    assert remove_from_cart(user=buyer, subscription_id="\x00") is False
    assert CartLine.objects.count() == 1

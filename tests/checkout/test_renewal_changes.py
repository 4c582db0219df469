"""Changes at renewal (R21): the cart line's change, its price, the order line, the door."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.checkout.cart import cart_groups
from renewals.checkout.cart_actions import ChangeRefused, add_to_cart, change_cart_line
from renewals.checkout.models import CartLine, CartLineChange, OrderLine, OrderLineChange
from renewals.core.errors import DomainError, NotFound
from renewals.core.money import money
from renewals.notifications.models import Email
from renewals.payments.checkout import place_order
from renewals.subscriptions.actions import RenewalRefused, renew_subscriptions
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = date(2027, 1, 31)  # anchor day 31
D = date(2027, 2, 28)
TODAY = date(2027, 2, 10)  # active, inside the window
GROUP = "5100000001:EUR:online"
CARD = {"method": "card", "card_number": "4242424242424242", "save": False}


@pytest.fixture
def marie():
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    return UserFactory(email="marie@dupont.example", language="fr")


def monthly(marie, sub_id="SUB-1", seats=5, csn="5100000001", **kwargs):
    customer = CustomerFactory(csn=csn, country="FR")
    sub = SubscriptionFactory(
        id=sub_id,
        customer=customer,
        purchaser=marie,
        term="monthly",
        seats=seats,
        start_date=START,
        renewal_date=D,
        offering__code="ACAD",
        **kwargs,
    )
    prices(sub)
    return sub


def prices(sub):
    for term, list_price, renewal_price in (
        ("monthly", "100.00", "90.00"),
        ("annual", "1100.00", "990.00"),
    ):
        PriceFactory(
            offering=sub.offering,
            term=term,
            currency=sub.currency,
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )


def _place(user, key="k-1", today=TODAY, group=GROUP, expected=None):
    return place_order(
        user=user,
        group_key=group,
        payment=CARD,
        idempotency_key=key,
        expected_total=expected,
        today=today,
    )


def _line(user):
    [group] = cart_groups(user=user, today=TODAY)
    return group, group.lines[0]


def test_a_monthly_changed_to_annual_with_fewer_seats_is_priced_at_the_annual_renewal_price(
    marie,
):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    item = change_cart_line(user=marie, subscription_id=sub.pk, seats=3, term="annual", today=TODAY)
    assert (item.offer.seats, item.offer.term, item.offer.price_kind) == (3, "annual", "renewal")
    group, line = _line(marie)
    assert line.offer.unit_price == money("990.00", "EUR")
    assert line.offer.price == money("2970.00", "EUR")
    assert line.offer.next_term == (D, date(2028, 2, 29))
    assert (group.subtotal, group.tax, group.total) == (
        money("2970.00", "EUR"),
        money("594.00", "EUR"),
        money("3564.00", "EUR"),
    )
    # What the user was shown is the line's snapshot (R6), and nothing changed on the subscription.
    stored = CartLine.objects.get()
    assert (stored.seats, stored.unit_price, stored.price_kind) == (
        3,
        Decimal("990.000"),
        "renewal",
    )
    assert (stored.term_start, stored.term_end) == (D, date(2028, 2, 29))
    assert not line.price_changed
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (5, "monthly", D)


def test_the_change_is_kept_on_the_order_line_and_applied_only_when_paid(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=3, term="annual", today=TODAY)
    order, created = _place(marie)
    assert created and order.status == "paid"
    assert order.total == Decimal("3564.000")
    line = OrderLine.objects.select_related("change").get()
    assert (line.seats, line.term, line.previous, line.changed) == (
        3,
        "annual",
        (5, "monthly"),
        True,
    )
    assert (line.term_start, line.term_end) == (D, date(2028, 2, 29))
    sub.refresh_from_db()
    assert (sub.seats, sub.term) == (3, "annual")
    assert sub.renewal_date == sub.lapse_date == date(2028, 2, 29)
    # The history: the current (now previous) monthly term is untouched, the new one says 3 seats.
    history = [(t.start, t.end, t.seats, t.term) for t in Term.objects.order_by("start")]
    assert history == [
        (START, D, None, "monthly"),
        (D, date(2028, 2, 29), 3, "annual"),
    ]
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    assert not CartLine.objects.exists()


def test_nothing_changes_on_the_subscription_while_the_order_waits_for_payment(marie):
    sub = monthly(marie, payment_method="konbini", currency="JPY")
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=2, today=TODAY)
    order, _ = place_order(
        user=marie,
        group_key="5100000001:JPY:online",
        payment={"method": "konbini"},
        idempotency_key="k-konbini",
        expected_total=None,
        today=TODAY,
    )
    assert order.status == "pending_payment"
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (5, "monthly", D)
    line = OrderLine.objects.select_related("change").get()
    assert (line.seats, line.previous) == (2, (5, "monthly"))


def test_a_seat_change_alone_keeps_the_term_and_its_dates(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=8, today=TODAY)
    _place(marie)
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (8, "monthly", date(2027, 3, 31))
    assert OrderLine.objects.get().amount == Decimal("800.000")  # monthly list price × 8


def test_an_unchanged_line_has_no_change_row(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=5, term="monthly", today=TODAY)
    _place(marie)
    assert not OrderLineChange.objects.exists()
    line = OrderLine.objects.get()
    assert (line.seats, line.term, line.changed) == (5, "monthly", False)


@pytest.mark.parametrize(
    ("seats", "term", "code"),
    [
        (0, None, "seats_below_one"),
        (-1, None, "seats_below_one"),
        (10001, None, "seats_above_limit"),
        (None, "three_year", "term_not_sold"),
    ],
)
def test_a_refused_change_changes_nothing(marie, seats, term, code):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    before = list(CartLine.objects.values())
    with pytest.raises(ChangeRefused) as refused:
        change_cart_line(user=marie, subscription_id=sub.pk, seats=seats, term=term, today=TODAY)
    assert refused.value.code == code
    assert refused.value.details[0]["terms"] == ["monthly", "annual"]
    assert list(CartLine.objects.values()) == before
    assert not CartLineChange.objects.exists()


def test_the_upper_bound_comes_from_the_offering_before_the_setting(marie, settings):
    settings.RENEWALS_MAX_SEATS = 50
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=50, today=TODAY)
    with pytest.raises(ChangeRefused, match="at most 50 seats"):
        change_cart_line(user=marie, subscription_id=sub.pk, seats=51, today=TODAY)
    sub.offering.max_seats = 10
    sub.offering.save()
    with pytest.raises(ChangeRefused, match="at most 10 seats"):
        change_cart_line(user=marie, subscription_id=sub.pk, seats=11, today=TODAY)


def test_an_unknown_term_is_refused_in_words(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    with pytest.raises(DomainError) as refused:
        change_cart_line(user=marie, subscription_id=sub.pk, term="weekly", today=TODAY)
    assert refused.value.code == "invalid_term"


def test_another_users_line_or_a_line_not_in_the_cart_is_not_found(marie):
    sub = monthly(marie)
    other = UserFactory(email="eve@example.com")
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    with pytest.raises(NotFound):
        change_cart_line(user=other, subscription_id=sub.pk, seats=1, today=TODAY)
    with pytest.raises(NotFound):
        change_cart_line(user=marie, subscription_id="SUB-NOPE", seats=1, today=TODAY)


def test_a_change_is_kept_when_the_subscription_is_added_again(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=3, term="annual", today=TODAY)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    _group, line = _line(marie)
    assert (line.offer.seats, line.offer.term) == (3, "annual")
    assert not line.price_changed


def test_a_removed_line_forgets_its_change(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=3, today=TODAY)
    CartLine.objects.all().delete()
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    _group, line = _line(marie)
    assert line.offer.seats == 5


def test_checkout_refuses_with_the_new_price_when_the_new_terms_price_changed(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=3, term="annual", today=TODAY)
    sub.offering.prices.filter(term="annual").update(renewal_price=Decimal("1000.00"))
    with pytest.raises(DomainError) as refused:
        _place(marie)
    assert refused.value.code == "price_changed"
    assert refused.value.details[0]["unit_price"] == {"amount": "1000.00", "currency": "EUR"}
    assert refused.value.details[0]["price"] == {"amount": "3000.00", "currency": "EUR"}
    assert refused.value.details[-1] == {"total": {"amount": "3600.00", "currency": "EUR"}}
    assert not OrderLine.objects.exists()
    # The cart now shows the new price with the change kept; a second checkout pays it.
    order, _ = _place(marie, key="k-2")
    assert order.total == Decimal("3600.000")


def test_checkout_refuses_when_d_passed_and_the_change_now_pays_the_list_price(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, term="annual", today=TODAY)
    with pytest.raises(DomainError) as refused:
        _place(marie, today=D)
    assert refused.value.code == "price_changed"
    assert refused.value.details[0]["price_kind"] == "list"
    assert refused.value.details[0]["price"] == {"amount": "5500.00", "currency": "EUR"}


def test_an_idempotent_checkout_applies_the_change_once(marie):
    sub = monthly(marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=TODAY)
    change_cart_line(user=marie, subscription_id=sub.pk, seats=3, term="annual", today=TODAY)
    first, created = _place(marie, key="same")
    again, created_again = _place(marie, key="same")
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (3, "annual", date(2028, 2, 29))
    assert Term.objects.filter(order_number=first.number).count() == 1


def test_the_door_refusing_changes_nothing_not_even_seats(marie):
    sub = monthly(marie)
    other = monthly(marie, sub_id="SUB-2", csn="5100000001")
    with pytest.raises(RenewalRefused):
        renew_subscriptions(
            [(sub.pk, D), (other.pk, date(2027, 1, 31))],  # the second is not the next term
            changes={sub.pk: (3, "annual")},
            today=TODAY,
            source="order",
        )
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (5, "monthly", D)
    assert Term.objects.filter(start=D).count() == 0


def test_tax_is_computed_once_on_the_changed_orders_subtotal(marie):
    # 3 lines of 0.05 € × 1 seat: 0.01 € tax per line would be 0.03; on the subtotal 0.15 it is
    # 0.03 as well — use a rate where per-line rounding differs: 10% of 0.05 = 0.005 → 0.01 each
    # (0.03), on 0.15 → 0.015 → 0.02 (R6: once per order).
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    customer = CustomerFactory(csn="5100000009", country="JP")
    subs = []
    for n in range(3):
        sub = SubscriptionFactory(
            id=f"T-{n}",
            customer=customer,
            purchaser=marie,
            term="annual",
            seats=4,
            renewal_date=date(2027, 3, 31),
            offering__code="TINY",
        )
        subs.append(sub)
    PriceFactory(
        offering=subs[0].offering,
        term="annual",
        currency="EUR",
        list_price=Decimal("1.00"),
        renewal_price=Decimal("1.00"),
    )
    PriceFactory(offering=subs[0].offering, term="monthly", currency="EUR",
                 list_price=Decimal("0.05"), renewal_price=Decimal("0.05"))  # fmt: skip
    add_to_cart(user=marie, subscription_ids=[s.pk for s in subs], today=TODAY)
    for sub in subs:
        change_cart_line(user=marie, subscription_id=sub.pk, seats=1, term="monthly", today=TODAY)
    [group] = cart_groups(user=marie, today=TODAY)
    assert (group.subtotal, group.tax, group.total) == (
        money("0.15", "EUR"),
        money("0.02", "EUR"),
        money("0.17", "EUR"),
    )


def _changed_group(marie, count, csn):
    customer = CustomerFactory(csn=csn, country="FR")
    first = SubscriptionFactory(
        purchaser=marie, customer=customer, term="monthly", start_date=START, renewal_date=D
    )
    prices(first)
    subs = [first] + [
        SubscriptionFactory(
            purchaser=marie,
            customer=customer,
            offering=first.offering,
            term="monthly",
            start_date=START,
            renewal_date=D,
        )
        for _ in range(count - 1)
    ]
    add_to_cart(user=marie, subscription_ids=[s.pk for s in subs], today=TODAY)
    for sub in subs:
        change_cart_line(user=marie, subscription_id=sub.pk, seats=2, term="annual", today=TODAY)
    return subs


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def test_paying_10_or_100_changed_lines_takes_the_same_number_of_queries(marie):
    _changed_group(marie, 1, "5100000012")
    _place(marie, key="warm", group="5100000012:EUR:online")  # creates the year's sequence
    _changed_group(marie, 10, "5100000010")
    small = _queries(lambda: _place(marie, key="k-10", group="5100000010:EUR:online"))
    hundred = _changed_group(marie, 100, "5100000011")
    large = _queries(lambda: _place(marie, key="k-100", group="5100000011:EUR:online"))
    assert small == large
    assert OrderLineChange.objects.count() == 111
    assert set(
        Subscription.objects.filter(pk__in=[s.pk for s in hundred]).values_list(
            "seats", "term", "renewal_date"
        )
    ) == {(2, "annual", date(2028, 2, 29))}


def test_a_101st_line_is_still_refused_with_changes_in_the_cart(marie):
    subs = _changed_group(marie, 100, "5100000011")
    extra = SubscriptionFactory(
        purchaser=marie, customer=subs[0].customer, offering=subs[0].offering
    )
    with pytest.raises(DomainError) as refused:
        add_to_cart(user=marie, subscription_ids=[extra.pk], today=TODAY)
    assert refused.value.code == "too_many"
    assert CartLineChange.objects.count() == 100

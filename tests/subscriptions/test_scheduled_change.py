"""A change scheduled for the next renewal (R21): the automatic charge and manual renewals."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from renewals.checkout.cart import cart_groups
from renewals.checkout.cart_actions import add_to_cart, change_cart_line
from renewals.checkout.models import Order, OrderLine
from renewals.core.models import AuditEvent
from renewals.lifecycle import daily
from renewals.payments.checkout import place_order
from renewals.subscriptions.actions import (
    ChangeRefused,
    cancel_scheduled_change,
    schedule_change,
)
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    PartnerFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = date(2027, 2, 28)
BEFORE = date(2027, 2, 10)


@pytest.fixture
def marie():
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    return UserFactory(email="marie@dupont.example")


def monthly(marie, **kwargs):
    sub = SubscriptionFactory(
        id=kwargs.pop("id", "SUB-1"),
        customer=CustomerFactory(csn="5100000001", country="FR"),
        purchaser=marie,
        term="monthly",
        seats=5,
        start_date=date(2027, 1, 31),
        renewal_date=D,
        offering__code="ACAD",
        **kwargs,
    )
    for term, list_price, renewal_price in (
        ("monthly", "100.00", "90.00"),
        ("annual", "1100.00", "990.00"),
    ):
        PriceFactory(
            offering=sub.offering,
            term=term,
            currency="EUR",
            list_price=Decimal(list_price),
            renewal_price=Decimal(renewal_price),
        )
    return sub


def test_the_automatic_charge_applies_the_scheduled_change(
    marie, django_capture_on_commit_callbacks
):
    sub = monthly(marie, auto_renew=True)
    schedule_change(sub.pk, seats=3, term="annual", today=BEFORE, actor=marie)
    sub.refresh_from_db()
    assert sub.scheduled_change == {"for": "2027-02-28", "seats": 3, "term": "annual"}
    assert (sub.seats, sub.term) == (5, "monthly")  # nothing before D
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D)
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (3, "annual", date(2028, 2, 29))
    assert sub.scheduled_change is None  # used up by the renewal of its term
    order = Order.objects.get()
    assert (order.automatic, order.status, order.subtotal) == (True, "paid", Decimal("2970.000"))
    line = OrderLine.objects.select_related("change").get()
    assert (line.seats, line.term, line.previous) == (3, "annual", (5, "monthly"))
    assert Term.objects.get(start=D).seats == 3


def test_without_a_scheduled_change_the_automatic_charge_keeps_seats_and_term(
    marie, django_capture_on_commit_callbacks
):
    sub = monthly(marie, auto_renew=True)
    with django_capture_on_commit_callbacks(execute=True):
        daily.run_daily(D)
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.renewal_date) == (5, "monthly", date(2027, 3, 31))


def test_a_manual_renewal_of_that_term_follows_the_scheduled_change(marie):
    sub = monthly(marie)
    schedule_change(sub.pk, seats=2, term=None, today=BEFORE, actor=marie)
    add_to_cart(user=marie, subscription_ids=[sub.pk], today=BEFORE)
    [group] = cart_groups(user=marie, today=BEFORE)
    assert (group.lines[0].offer.seats, group.lines[0].offer.term) == (2, "monthly")
    # A change chosen in the cart wins for that order.
    change_cart_line(user=marie, subscription_id=sub.pk, term="annual", today=BEFORE)
    [group] = cart_groups(user=marie, today=BEFORE)
    assert (group.lines[0].offer.seats, group.lines[0].offer.term) == (2, "annual")
    order, _ = place_order(
        user=marie,
        group_key=group.key,
        payment={"method": "card", "card_number": "4242424242424242"},
        idempotency_key="k",
        expected_total=None,
        today=BEFORE,
    )
    assert order.status == "paid"
    sub.refresh_from_db()
    assert (sub.seats, sub.term, sub.scheduled_change) == (2, "annual", None)


def test_cancelled_any_day_before_d_and_the_next_renewal_keeps_the_current_values(marie):
    sub = monthly(marie)
    schedule_change(sub.pk, seats=3, term="annual", today=BEFORE, actor=marie)
    cancel_scheduled_change(sub.pk, today=D - timedelta(days=1), actor=marie)
    sub.refresh_from_db()
    assert sub.scheduled_change is None
    assert list(
        AuditEvent.objects.filter(object_id=sub.pk).order_by("id").values_list("action", flat=True)
    ) == ["renewal_change_scheduled", "scheduled_change_cancelled"]


def test_scheduling_the_current_values_clears_the_change(marie):
    sub = monthly(marie)
    schedule_change(sub.pk, seats=3, term=None, today=BEFORE, actor=marie)
    schedule_change(sub.pk, seats=5, term="monthly", today=BEFORE, actor=marie)
    sub.refresh_from_db()
    assert sub.scheduled_change is None


@pytest.mark.parametrize(
    ("today", "kwargs", "actor", "reasons"),
    [
        (D, {"seats": 3}, "marie", ("change_too_late",)),
        (D - timedelta(days=1), {"seats": 0}, "marie", ("seats_below_one",)),
        (BEFORE, {"seats": 10001}, "marie", ("seats_above_limit",)),
        (BEFORE, {"term": "three_year"}, "marie", ("term_not_sold",)),
        (BEFORE, {"seats": 3}, "other", ("not_purchaser",)),
        (D + timedelta(days=30), {"seats": 3}, "marie", ("cancelled", "change_too_late")),
    ],
)
def test_refusals_report_every_reason_and_change_nothing(marie, today, kwargs, actor, reasons):
    sub = monthly(marie)
    who = marie if actor == "marie" else UserFactory(email="eve@example.com")
    with pytest.raises(ChangeRefused) as refused:
        schedule_change(
            sub.pk, seats=kwargs.get("seats"), term=kwargs.get("term"), today=today, actor=who
        )
    assert refused.value.reasons == reasons
    assert Subscription.objects.get().scheduled_change is None


def test_cancelling_on_d_is_too_late(marie):
    sub = monthly(marie)
    schedule_change(sub.pk, seats=3, term=None, today=BEFORE, actor=marie)
    with pytest.raises(ChangeRefused) as refused:
        cancel_scheduled_change(sub.pk, today=D, actor=marie)
    assert refused.value.reasons == ("change_too_late",)
    assert Subscription.objects.get().scheduled_change is not None


def test_partner_and_trial_subscriptions_cannot_be_changed(marie):
    partner = monthly(marie, id="SUB-P", purchase_method="partner", partner=PartnerFactory())
    trial = SubscriptionFactory(id="SUB-T", purchaser=marie, trial=True, offering=partner.offering)
    with pytest.raises(ChangeRefused) as refused:
        schedule_change(partner.pk, seats=2, term=None, today=BEFORE, actor=marie)
    assert refused.value.reasons == ("partner_managed",)
    with pytest.raises(ChangeRefused) as refused:
        schedule_change(trial.pk, seats=2, term=None, today=BEFORE, actor=marie)
    assert "trial" in refused.value.reasons


def test_a_change_set_against_an_earlier_d_is_ignored(marie):
    sub = monthly(marie)
    schedule_change(sub.pk, seats=3, term=None, today=BEFORE, actor=marie)
    Subscription.objects.filter(pk=sub.pk).update(renewal_date=date(2027, 3, 31))
    sub.refresh_from_db()
    assert sub.next_term_change is None

"""The SQL stage filter agrees with the pure rule (R2), and visibility is scoped (R5)."""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from renewals.subscriptions import periods, rules
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    SubscriptionFactory,
    UserFactory,
)

TODAY = date(2028, 3, 1)  # the day after 29 February of a leap year
DAYS_LATE = [-91, -90, -1, 0, 1, 14, 15, 16, 29, 30, 31, 44, 45, 46, 400]


@pytest.fixture
def around_every_boundary(db):
    """Create one subscription per term, trial flag, overdue flag and boundary offset."""
    customer = CustomerFactory()
    offering = OfferingFactory()
    purchaser = UserFactory()
    subs = []
    for term in ["monthly", "annual", "three_year"]:
        for trial in [False, True]:
            for overdue in [False, True]:
                for late in DAYS_LATE:
                    lapse = TODAY - timedelta(days=late)
                    # An overdue invoice (R9) makes the lapse date 20 days earlier than D.
                    renewal_date = lapse + timedelta(days=20 if overdue else 0)
                    subs.append(
                        Subscription(
                            id=f"{term}-{'trial' if trial else 'paid'}-{int(overdue)}-{late}",
                            customer=customer,
                            offering=offering,
                            term=term,
                            seats=1,
                            currency="EUR",
                            start_date=periods.previous_renewal_date(
                                renewal_date, term, renewal_date.day
                            ),
                            renewal_date=renewal_date,
                            lapse_date=lapse,
                            purchase_method="online",
                            payment_method="card",
                            purchaser=purchaser,
                            trial=trial,
                        )
                    )
    Subscription.objects.bulk_create(subs)
    return subs


@pytest.mark.django_db
@pytest.mark.parametrize("stage", rules.STAGES)
@pytest.mark.parametrize(
    "today", [TODAY, TODAY - timedelta(days=1), TODAY + timedelta(days=1)], ids=str
)
def test_the_sql_stage_filter_returns_exactly_the_subscriptions_the_pure_rule_puts_there(
    around_every_boundary, stage, today
):
    expected = {s.id for s in around_every_boundary if s.stage_on(today) == stage}
    found = set(Subscription.objects.in_stage(stage, today).values_list("id", flat=True))
    assert found == expected
    assert expected  # every stage is populated on these dates, so the check means something


@pytest.mark.django_db
def test_every_subscription_is_in_exactly_one_stage(around_every_boundary):
    counted = sum(Subscription.objects.in_stage(stage, TODAY).count() for stage in rules.STAGES)
    assert counted == len(around_every_boundary) == Subscription.objects.count()


@pytest.mark.django_db
def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage 'lapsed'"):
        Subscription.objects.in_stage("lapsed", TODAY)


@pytest.fixture
def two_customers(db):
    acme, other = CustomerFactory(), CustomerFactory()
    alice, bob = UserFactory(), UserFactory()
    subs = {
        "alice-acme": SubscriptionFactory(customer=acme, purchaser=alice),
        "bob-acme": SubscriptionFactory(customer=acme, purchaser=bob),
        "bob-other": SubscriptionFactory(customer=other, purchaser=bob),
    }
    return acme, other, alice, bob, subs


def visible_ids(user) -> set[str]:
    return set(Subscription.objects.visible_to(user).values_list("id", flat=True))


@pytest.mark.django_db
def test_a_purchaser_sees_only_the_subscriptions_they_pay_for(two_customers):
    _acme, _other, alice, _bob, subs = two_customers
    assert visible_ids(alice) == {subs["alice-acme"].id}


@pytest.mark.django_db
def test_an_admin_of_a_csn_sees_every_subscription_of_that_customer(two_customers):
    acme, _other, alice, _bob, subs = two_customers
    admin = UserFactory()
    MembershipFactory(user=admin, customer=acme)
    MembershipFactory(user=alice, customer=acme)
    assert visible_ids(admin) == {subs["alice-acme"].id, subs["bob-acme"].id}
    assert visible_ids(alice) == {subs["alice-acme"].id, subs["bob-acme"].id}


@pytest.mark.django_db
def test_an_admin_who_also_purchases_elsewhere_sees_both_without_duplicates(two_customers):
    _acme, other, _alice, bob, subs = two_customers
    MembershipFactory(user=bob, customer=other)
    assert list(
        Subscription.objects.visible_to(bob).order_by("id").values_list("id", flat=True)
    ) == sorted([subs["bob-acme"].id, subs["bob-other"].id])


@pytest.mark.django_db
def test_strangers_and_anonymous_visitors_see_nothing(two_customers):
    _acme, other, _alice, _bob, _subs = two_customers
    stranger = UserFactory()
    member_elsewhere = UserFactory()
    MembershipFactory(user=member_elsewhere, customer=CustomerFactory())
    assert visible_ids(stranger) == set()
    assert visible_ids(member_elsewhere) == set()
    assert visible_ids(AnonymousUser()) == set()

"""Every subscription door stamps `updated` (#16): a bulk write does not run `auto_now`."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from renewals.subscriptions import actions
from renewals.subscriptions.auto_renew import change_auto_renew
from renewals.subscriptions.models import Subscription
from tests.factories import UserFactory, priced_subscription

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)
D = TODAY + timedelta(days=20)


@pytest.fixture
def stale_sub():
    sub = priced_subscription(id="S", purchaser=UserFactory(), renewal_date=D)
    stale = timezone.now() - timedelta(days=3)
    Subscription.objects.filter(pk="S").update(updated=stale)
    return sub, stale


def updated_after(stale) -> bool:
    return Subscription.objects.get(pk="S").updated > stale


def test_change_auto_renew_stamps_updated(stale_sub):
    sub, stale = stale_sub
    [result] = change_auto_renew(
        user=sub.purchaser, subscription_ids=["S"], turn_on=True, today=TODAY
    )
    assert result.ok
    assert updated_after(stale)


def test_the_lapse_doors_stamp_updated(stale_sub):
    _sub, stale = stale_sub
    assert actions.start_lapse(["S"], day=TODAY + timedelta(days=5)) == 1
    assert updated_after(stale)

    Subscription.objects.filter(pk="S").update(updated=stale)
    restored, refused = actions.restore_lapse_dates(["S"], today=TODAY)
    assert (restored, refused) == (["S"], [])
    assert updated_after(stale)


def test_renewal_stamps_updated(stale_sub):
    _sub, stale = stale_sub
    actions.renew_subscriptions([("S", D)], today=TODAY, source="test")
    assert Subscription.objects.get(pk="S").renewal_date == date(D.year + 1, D.month, D.day)
    assert updated_after(stale)

"""core.updates.update_fields: the rows' values saved, in one UPDATE per distinct set of values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.core import updates
from renewals.subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _updates(ctx):
    return [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]


def test_rows_sharing_values_are_one_update_and_each_row_gets_its_own():
    subs = [SubscriptionFactory(seats=1) for _ in range(6)]
    for n, sub in enumerate(subs):
        sub.seats = 5 if n % 2 else 7
        sub.scheduled_change = {"for": "2027-01-01", "seats": 3} if n == 0 else None
    with CaptureQueriesContext(connection) as ctx:
        updates.update_fields(Subscription, subs, ["seats", "scheduled_change"])
    assert len(_updates(ctx)) == 3  # (7, change), (5, None), (7, None)
    saved = dict(Subscription.objects.values_list("pk", "seats"))
    assert saved == {s.pk: s.seats for s in subs}
    assert Subscription.objects.get(pk=subs[0].pk).scheduled_change == {
        "for": "2027-01-01",
        "seats": 3,
    }
    assert Subscription.objects.filter(scheduled_change__isnull=True).count() == 5


def test_rows_that_all_differ_are_one_bulk_update():
    subs = [SubscriptionFactory() for _ in range(12)]
    for n, sub in enumerate(subs):
        sub.seats = n + 1
    with CaptureQueriesContext(connection) as ctx:
        updates.update_fields(Subscription, subs, ["seats"])
    assert len(_updates(ctx)) == 1  # more than MAX_GROUPS sets of values: bulk_update
    saved = dict(Subscription.objects.values_list("pk", "seats"))
    assert saved == {s.pk: s.seats for s in subs}

"""`field__any=[…]` selects what `field__in=[…]` selects (renewals/core/lookups.py), on every
database; on PostgreSQL as one array parameter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _pks(qs):
    return sorted(qs.values_list("pk", flat=True))


def test_any_selects_what_in_selects():
    subs = SubscriptionFactory.create_batch(4)
    ids = [subs[0].pk, subs[2].pk, subs[2].pk, None, "no-such-id"]
    assert _pks(Subscription.objects.filter(pk__any=ids)) == sorted([subs[0].pk, subs[2].pk])
    assert _pks(Subscription.objects.filter(pk__any=ids)) == _pks(
        Subscription.objects.filter(pk__in=ids)
    )
    # A foreign key, by ids and by instances; and excluded.
    purchasers = [subs[1].purchaser_id, subs[3].purchaser_id]
    by_ids = _pks(Subscription.objects.filter(purchaser_id__any=purchasers))
    assert by_ids == _pks(Subscription.objects.filter(purchaser_id__in=purchasers))
    assert by_ids == _pks(
        Subscription.objects.filter(purchaser__any=[subs[1].purchaser, subs[3].purchaser])
    )
    assert _pks(Subscription.objects.exclude(pk__any=ids)) == _pks(
        Subscription.objects.exclude(pk__in=ids)
    )


def test_an_empty_list_selects_nothing_without_a_statement():
    SubscriptionFactory()
    with CaptureQueriesContext(connection) as queries:
        assert list(Subscription.objects.filter(pk__any=[])) == []
        assert list(Subscription.objects.filter(pk__any=[None])) == []
    assert len(queries) == 0


@pytest.mark.postgres
def test_postgresql_gets_one_array_parameter():
    subs = SubscriptionFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries:
        assert len(Subscription.objects.filter(pk__any=[s.pk for s in subs])) == 3
    assert "= ANY(" in queries[0]["sql"]
    assert " IN (" not in queries[0]["sql"]

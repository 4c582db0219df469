"""A renewal between the list page's statements never breaks the page or empties a term history.

The page is read with its keys as a subquery; its terms are read by the ids that page read, so a
subscription renewed meanwhile (its D moves, so its place in the sort) is neither a 500 nor
shown with no terms (found in review, #15).
"""

from datetime import date

import pytest

from renewals import rows
from renewals.subscriptions.models import Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _renewed_between_statements(monkeypatch):
    original = rows.read_terms

    def renewed_meanwhile(subs, ids):
        Subscription.objects.filter(pk="SUB-0").update(renewal_date=date(2028, 1, 1))
        return original(subs, ids)

    monkeypatch.setattr(rows, "read_terms", renewed_meanwhile)


def test_a_subscription_that_moves_into_the_page_meanwhile_is_no_error(
    api, user, customer, monkeypatch
):
    for n in range(4):
        SubscriptionFactory(
            id=f"SUB-{n}", customer=customer, purchaser=user, renewal_date=date(2027, 1, 1 + n)
        )
    _renewed_between_statements(monkeypatch)
    response = api.get("/api/v1/subscriptions?page_size=2")
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == ["SUB-0", "SUB-1"]


def test_a_subscription_that_leaves_the_filter_meanwhile_keeps_its_terms(
    api, user, customer, monkeypatch
):
    for n in range(3):
        SubscriptionFactory(
            id=f"SUB-{n}", customer=customer, purchaser=user, renewal_date=date(2027, 1, 1 + n)
        )
    url = "/api/v1/subscriptions?renewal_date_before=2027-12-31&page_size=10"
    before = {s["id"]: s["terms"] for s in api.get(url).json()["results"]}
    _renewed_between_statements(monkeypatch)
    after = {s["id"]: s["terms"] for s in api.get(url).json()["results"]}
    assert before["SUB-0"]
    assert after == before


@pytest.mark.parametrize("empty", [lambda qs: qs.none(), lambda qs: qs.filter(pk__in=[])])
def test_a_page_of_a_query_that_can_select_nothing_is_empty(empty):
    """Found in review: compiling the keys alone raised EmptyResultSet (a 500) where Django's
    own execution gives no rows."""
    SubscriptionFactory()
    page = rows.load_page(empty(Subscription.objects.order_by("pk"))[:500])
    assert (page.rows, page.terms) == ([], {})


@pytest.mark.parametrize("unordered", [lambda qs: qs, lambda qs: qs.order_by("pk").reverse()])
def test_a_page_without_an_explicit_forward_ordering_is_refused(unordered):
    """Found in review: the page's rows would come back in another order than asked."""
    with pytest.raises(ValueError, match="explicit order_by"):
        rows.load_page(unordered(Subscription.objects.all())[:5])

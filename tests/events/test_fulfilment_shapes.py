"""A paid order's events are shaped from what fulfilment holds and read where it must (#15):
each must equal the shape read back from the database once the order is paid."""

import json
from datetime import date

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from renewals import rows
from renewals.checkout.offers import pending_subscription_ids
from renewals.events.models import Event
from renewals.events.shapes import _holds_payment_and_invoice, orders_shaped, subscriptions_shaped
from renewals.payments import actions
from renewals.payments.models import Payment
from renewals.rows import load_page
from renewals.subscriptions.models import Subscription
from tests.factories import PriceFactory
from tests.payments.helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)


def read_back(data):
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def assert_events_are_the_shapes_read_back(order_pk, subs):
    renewed = {
        e.subscription_id: e.data["object"]
        for e in Event.objects.filter(type="subscription.renewed")
    }
    ids = [s.pk for s in subs]
    assert sorted(renewed) == sorted(ids)
    for shaped, sub_id in zip(subscriptions_shaped(ids, TODAY), ids, strict=True):
        assert renewed[sub_id] == read_back(shaped.data), sub_id
    (paid,) = Event.objects.filter(type="order.paid")
    (order_shape,) = orders_shaped([order_pk], TODAY)
    assert paid.data["object"] == read_back(order_shape.data)
    assert paid.data["object"]["payment"]["status"] == "succeeded"
    assert paid.data["object"]["invoice"] is not None
    return renewed, paid.data["object"]


def changes_at_renewal(subs):
    """The first keeps its seats and term, the second takes 4 seats, the third a monthly term."""
    if len(subs) > 1:
        Subscription.objects.filter(pk=subs[1].pk).update(
            scheduled_change={"for": D.isoformat(), "seats": 4}
        )
    if len(subs) > 2:
        PriceFactory(
            offering=subs[2].offering, term="monthly", currency=subs[2].currency,
            list_price="1500", renewal_price="1400",
        )  # fmt: skip
        Subscription.objects.filter(pk=subs[2].pk).update(
            scheduled_change={"for": D.isoformat(), "term": "monthly"}
        )


def test_a_card_order_in_eur_of_several_subscriptions_with_changes():
    first = eur_subscription(renewal_date=D, seats=3)
    subs = [first] + [
        eur_subscription(renewal_date=D, customer=first.customer, purchaser=first.purchaser)
        for _ in range(2)
    ]
    changes_at_renewal(subs)
    order = order_for(subs)
    actions.start_payment(
        order, method="card", user=order.placed_by, today=TODAY,
        card_token="pm_sandbox_4242424242424242",
    )  # fmt: skip
    renewed, paid = assert_events_are_the_shapes_read_back(order.pk, subs)
    assert renewed[subs[1].pk]["seats"] == 4
    assert renewed[subs[2].pk]["term"] == "monthly"
    assert paid["payment"]["method"] == "card"


def test_a_konbini_order_in_jpy_paid_by_the_gateway_event():
    subs = jpy_subscriptions(3, renewal_date=D)
    changes_at_renewal(subs)
    order = order_for(subs, method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    assert actions.payment_succeeded(payment.reference, source="test", today=TODAY) is True
    renewed, paid = assert_events_are_the_shapes_read_back(order.pk, subs)
    assert paid["payment"]["instructions"]["konbini"]["payment_code"]
    assert renewed[subs[1].pk]["seats"] == 4


def test_a_payment_whose_instructions_would_not_read_back_is_read():
    subs = jpy_subscriptions(1, renewal_date=D)
    order = order_for(subs, method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    order.refresh_from_db()
    payment = Payment.objects.get(pk=payment.pk)
    order.__class__.payment.related.set_cached_value(order, payment)
    order.__class__.invoice.related.set_cached_value(order, None)
    assert _holds_payment_and_invoice(order)
    payment.instructions = {"konbini": {"stores": ("a", "b")}}  # a tuple reads back a list
    assert not _holds_payment_and_invoice(order)
    payment.instructions = {1: "x"}  # a key reads back as text
    assert not _holds_payment_and_invoice(order)


def test_the_pending_column_is_the_open_order_facts():
    # subscriptions_shaped reads `pending` as a column of the subscriptions (load_page):
    # held by an open order for the next term, by an open order for another term, by a failed
    # automatic order, by none.
    subs = jpy_subscriptions(4, renewal_date=D)
    order_for([subs[0]])  # pending, holding D
    order_for([subs[1]])
    Subscription.objects.filter(pk=subs[1].pk).update(renewal_date=date(2027, 4, 30))
    failed = order_for([subs[2]], automatic=True)
    failed.status = "failed"
    failed.save(update_fields=["status"])
    _rows, _terms, (pending, _failed) = load_page(
        Subscription.objects.filter(pk__in=[s.pk for s in subs])
    )
    assert pending == pending_subscription_ids(
        Subscription.objects.filter(pk__in=[s.pk for s in subs])
    )
    assert pending == {subs[0].pk}


@pytest.mark.parametrize(
    "ordered",
    [lambda qs: qs, lambda qs: qs.order_by("-seats", "pk"), lambda qs: qs.order_by("pk").reverse()],
)
def test_subscriptions_not_a_page_are_the_rows_of_their_own_query(ordered):
    # load_page reads them with the page's compiled statement: the same rows, in the same
    # order, as the query itself gives (renewal dates and seats varied for the orderings).
    subs = jpy_subscriptions(3, renewal_date=D) + [eur_subscription(renewal_date=date(2027, 4, 30))]
    Subscription.objects.filter(pk=subs[1].pk).update(seats=7)
    order_for([subs[0]])
    qs = ordered(Subscription.objects.filter(pk__in=[s.pk for s in subs]))
    facts = rows._facts()
    seen: dict = {}
    expected = [
        rows.SubscriptionRow(v, seen)
        for v in qs.annotate(**facts).values_list(*rows.COLUMNS, *rows.JOINED, *facts)
    ]
    page = load_page(qs)
    assert page.rows == expected
    assert page.open_orders[0] == {subs[0].pk}

"""Every fact of R22 is one event, written in the transaction of the fact (the main flows)."""

import json
from datetime import date, timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from renewals.billing import actions as billing
from renewals.events import outbox
from renewals.events.models import Event, EventSubscription
from renewals.events.shapes import orders_shaped
from renewals.lifecycle import daily
from renewals.payments import actions
from renewals.subscriptions import rules
from renewals.subscriptions.actions import renew_subscriptions
from renewals.subscriptions.auto_renew import change_auto_renew
from renewals.subscriptions.models import Subscription
from tests.factories import CardFactory
from tests.payments.helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db

D = date(2027, 3, 31)


def types(**filters):
    return list(
        Event.objects.filter(**filters).order_by("position", "pk").values_list("type", flat=True)
    )


def pay_by_card(subs, number="4242424242424242"):
    order = order_for(subs)
    actions.start_payment(
        order, method="card", user=order.placed_by, today=TODAY, card_token=f"pm_sandbox_{number}"
    )
    order.refresh_from_db()
    return order


def test_a_card_checkout_of_two_subscriptions_is_two_renewals_then_one_order_paid():
    first = eur_subscription(renewal_date=D, seats=3)
    second = eur_subscription(renewal_date=D, customer=first.customer, purchaser=first.purchaser)
    order = pay_by_card([first, second])
    assert order.status == "paid"
    assert types() == ["subscription.renewed", "subscription.renewed", "order.paid"]
    renewed = Event.objects.filter(type="subscription.renewed").order_by("pk")
    shape = renewed[0].data["object"]
    assert renewed[0].subscription_id == first.pk and renewed[0].sequence == 1
    assert shape["id"] == first.pk
    assert shape["renewal_date"] == "2028-03-31"
    assert shape["seats"] == 3 and shape["term"] == "annual"
    assert shape["stage"] == "active" and shape["access"] is True
    # R21: each term says its seats and term.
    assert shape["terms"][0] == {
        "start": "2027-03-31",
        "end": "2028-03-31",
        "order": order.number,
        "seats": 3,
        "term": "annual",
    }
    paid = Event.objects.get(type="order.paid")
    assert paid.subscription_id is None and paid.sequence is None
    assert paid.data["object"]["number"] == order.number
    assert paid.data["object"]["status"] == "paid"
    assert paid.data["object"]["total"] == {"amount": f"{order.total:.2f}", "currency": "EUR"}
    # Each subscription's sequence counts every event about it, the order's too.
    assert sorted(
        EventSubscription.objects.filter(event=paid).values_list("subscription_id", "sequence")
    ) == [(first.pk, 2), (second.pk, 2)]


def test_order_paid_shaped_from_fulfilment_memory_is_the_shape_read_back():
    # #15: fulfilment hands its order with the lines it loaded; the shape must be the one the
    # database gives once committed (lines, payment, invoice and status included).
    first = eur_subscription(renewal_date=D, seats=3)
    second = eur_subscription(renewal_date=D, customer=first.customer, purchaser=first.purchaser)
    order = pay_by_card([first, second])
    paid = Event.objects.get(type="order.paid")
    (read_back,) = orders_shaped([order.pk], TODAY)
    assert paid.data["object"] == json.loads(json.dumps(read_back.data, cls=DjangoJSONEncoder))
    assert paid.data["object"]["invoice"] is not None
    assert paid.data["object"]["payment"]["status"] == "succeeded"
    assert [line["subscription_id"] for line in paid.data["object"]["lines"]] == [
        first.pk,
        second.pk,
    ]


def test_a_declined_card_is_order_failed_and_nothing_renewed():
    sub = eur_subscription(renewal_date=D)
    order = pay_by_card([sub], number="4000000000000002")
    assert order.status == "failed"
    assert types() == ["order.failed"]
    event = Event.objects.get()
    assert event.subscription_id == sub.pk and event.sequence == 1
    assert event.data["object"]["payment"]["failure_code"] == "card_declined"


def test_konbini_pending_then_expired_then_a_new_order_paid():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    assert types() == ["payment.pending"]
    pending = Event.objects.get()
    assert pending.data["object"]["payment"]["instructions"]["konbini"]["payment_code"]
    assert actions.payment_expired(payment.reference, source="test") is True
    assert types() == ["payment.pending", "payment.expired"]
    assert Event.objects.get(type="payment.expired").data["object"]["status"] == "expired"
    assert list(Event.objects.order_by("pk").values_list("sequence", flat=True)) == [1, 2]


def test_konbini_paid_renews_once_however_often_the_gateway_says_so():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    for _ in range(3):
        actions.payment_succeeded(payment.reference, source="test", today=TODAY)
    assert types() == ["payment.pending", "subscription.renewed", "order.paid"]


def test_an_invoice_order_is_invoiced_renewed_overdue_and_paid(settings):
    sub = eur_subscription(renewal_date=D, purchase_method="invoice")
    order = order_for([sub], method="invoice")
    actions.start_payment(order, method="invoice", user=order.placed_by, today=TODAY)
    invoice = order.invoice
    # R9: renewed, then invoiced — never "order.paid" while the invoice is unpaid (#13).
    assert types() == ["subscription.renewed", "order.invoiced"]
    assert Event.objects.get(type="order.invoiced").data["object"]["invoice"]["number"] == (
        invoice.number
    )
    due = invoice.due_date
    assert billing.mark_overdue_invoices(due) == 1
    assert types()[-1] == "invoice.overdue"
    overdue = Event.objects.get(type="invoice.overdue").data["object"]
    # The invoice shape says "overdue" (interfaces.md §2), unpaid past its due date (#13).
    assert overdue["number"] == invoice.number and overdue["status"] == "overdue"
    assert overdue["subscription_ids"] == [sub.pk]
    billing.invoice_paid(invoice, actor=None, today=due + timedelta(days=20))
    # The order is paid only now, with its invoice (#13).
    assert types()[-3:] == ["subscription.stage_changed", "invoice.paid", "order.paid"]
    back = Event.objects.get(type="subscription.stage_changed")
    assert back.data["previous_attributes"] == {"stage": "suspended", "access": False}
    assert back.data["object"]["stage"] == "active"
    assert Event.objects.get(type="invoice.paid").data["object"]["status"] == "paid"


def test_auto_renew_changes_are_events_with_the_previous_setting():
    sub = eur_subscription(renewal_date=D, payment_method="card")
    sub.card = CardFactory(user=sub.purchaser)
    sub.save()
    change_auto_renew(user=sub.purchaser, subscription_ids=[sub.pk], turn_on=True, today=TODAY)
    change_auto_renew(user=sub.purchaser, subscription_ids=[sub.pk], turn_on=True, today=TODAY)
    assert types() == ["subscription.auto_renew_changed"]
    event = Event.objects.get()
    assert event.data["object"]["auto_renew"] is True
    assert event.data["previous_attributes"] == {"auto_renew": False}


def stage_events(sub_id):
    return [
        (
            e.data["previous_attributes"]["stage"],
            e.data["object"]["stage"],
            e.data["object"]["access"],
        )
        for e in Event.objects.filter(type="subscription.stage_changed", subscription_id=sub_id)
    ]


def test_the_daily_run_announces_each_stage_change_once_with_access_before_and_after():
    sub = eur_subscription(renewal_date=D)
    for day in (D - timedelta(days=1), D, D, D + timedelta(days=1), D + timedelta(days=15)):
        daily.run_daily(day)
    assert stage_events(sub.pk) == [("active", "expired", True), ("expired", "suspended", False)]
    cancelled_on = D + timedelta(days=rules.grace_days("annual"))
    daily.run_daily(cancelled_on)
    daily.run_daily(cancelled_on)
    assert stage_events(sub.pk)[-1] == ("suspended", "cancelled", False)
    assert len(stage_events(sub.pk)) == 3


def test_announcing_stage_changes_takes_the_same_statements_for_2_or_40():
    """#15: the changes are read as values and shaped in a fixed number of statements."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from renewals.lifecycle.stage_events import announce_stage_changes
    from tests.factories import SubscriptionFactory

    first = eur_subscription(renewal_date=D, lapse_date=D)
    common = dict(customer=first.customer, offering=first.offering, purchaser=first.purchaser)
    SubscriptionFactory(id="SUB-S0", renewal_date=D, lapse_date=D, **common)
    with transaction.atomic(), CaptureQueriesContext(connection) as few:
        assert announce_stage_changes(D - timedelta(days=1), D) == 2
    for n in range(1, 39):
        SubscriptionFactory(id=f"SUB-S{n}", renewal_date=D, lapse_date=D, **common)
    with transaction.atomic(), CaptureQueriesContext(connection) as many:
        assert announce_stage_changes(D - timedelta(days=1), D) == 38
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_run_after_missed_days_announces_the_change_once():
    sub = eur_subscription(renewal_date=D)
    daily.run_daily(D - timedelta(days=1))
    daily.run_daily(D + timedelta(days=20))  # expired and suspended meanwhile
    assert stage_events(sub.pk) == [("active", "suspended", False)]


def test_renewing_a_suspended_subscription_gives_access_back_as_a_stage_change():
    sub = eur_subscription(renewal_date=D)
    day = D + timedelta(days=20)
    renew_subscriptions([(sub.pk, D)], today=day, source="test")
    assert types() == ["subscription.renewed", "subscription.stage_changed"]
    assert stage_events(sub.pk) == [("suspended", "active", True)]


def test_a_rolled_back_fact_leaves_no_event():
    sub = eur_subscription(renewal_date=D)
    with pytest.raises(RuntimeError), transaction.atomic():
        renew_subscriptions([(sub.pk, D)], today=TODAY, source="test")
        assert types() == ["subscription.renewed"]
        raise RuntimeError("the caller fails after the door")
    assert Event.objects.count() == 0
    assert Subscription.objects.get(pk=sub.pk).renewal_date == D


def test_the_database_refuses_two_events_with_one_sequence_number():
    sub = eur_subscription(renewal_date=D)
    renew_subscriptions([(sub.pk, D)], today=TODAY, source="test")
    event = Event.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        EventSubscription.objects.create(
            event=Event.objects.create(type="order.paid", data={}),
            subscription_id=sub.pk,
            sequence=1,
        )
    assert event.sequence == 1


def test_stages_with_access_agree_with_the_rules():
    assert outbox.STAGES_WITH_ACCESS == rules.STAGES_WITH_ACCESS


def test_a_renewal_of_100_subscriptions_writes_its_events_in_a_fixed_number_of_queries(
    django_assert_max_num_queries,
):
    first = eur_subscription(renewal_date=D)
    subs = [first] + [
        eur_subscription(renewal_date=D, customer=first.customer, purchaser=first.purchaser)
        for _ in range(99)
    ]
    with django_assert_max_num_queries(20):
        outbox.emit("subscription.renewed", subs, today=TODAY)
    assert Event.objects.count() == 100
    assert set(Event.objects.values_list("sequence", flat=True)) == {1}

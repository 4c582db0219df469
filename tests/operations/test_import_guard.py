"""R19: re-importing the vendor's file never undoes a paid term nor breaks a pending payment."""

import copy
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.checkout.models import Order
from renewals.core.models import AuditEvent
from renewals.payments import actions
from renewals.payments.gateways.sandbox import SandboxGateway
from renewals.payments.webhooks import receive_webhook
from renewals.subscriptions.importing import import_bytes
from renewals.subscriptions.models import Subscription
from tests.payments.helpers import order_for

from .test_import import EXAMPLE, run_import, write

pytestmark = pytest.mark.django_db
TODAY = date(2027, 3, 1)


def two_subscriptions():
    data = copy.deepcopy(EXAMPLE)
    other = copy.deepcopy(data["subscriptions"][0])
    other["id"] = "SUB-1002"
    data["subscriptions"].append(other)
    return data


def pay_by_card(sub_id):
    sub = Subscription.objects.get(pk=sub_id)
    order = order_for([sub], method="card", today=TODAY)
    actions.start_payment(
        order, method="card", user=order.placed_by, card_token="4242424242424242", today=TODAY
    )
    assert Order.objects.get(pk=order.pk).status == "paid"
    return order


def test_reimporting_the_same_file_after_a_payment_keeps_the_paid_term(tmp_path):
    data = two_subscriptions()
    path = write(tmp_path, data)
    run_import(path)
    order = pay_by_card("SUB-1001")
    assert Subscription.objects.get(pk="SUB-1001").renewal_date == date(2028, 3, 31)
    data["subscriptions"][1]["seats"] = 7  # the rest of the file still imports
    code, out, _err = run_import(write(tmp_path, data))
    assert code == 0
    paid = Subscription.objects.get(pk="SUB-1001")
    assert (paid.renewal_date, paid.lapse_date) == (date(2028, 3, 31), date(2028, 3, 31))
    assert paid.terms.filter(order_number=order.number).exists()
    assert Subscription.objects.get(pk="SUB-1002").seats == 7
    assert "1 subscription left unchanged to protect payments (R19):" in out
    assert "$.subscriptions[0] (SUB-1001): left unchanged" in out
    assert f"paid by order {order.number}" in out
    assert "subscriptions: 0 created, 1 updated, 1 unchanged" in out
    held = AuditEvent.objects.get(object_id="SUB-1001", action="import_held")
    assert "2028-03-31" in held.data["why"]
    # The next term can be renewed normally: nothing is stuck in payment_pending.
    offer_order = order_for([paid], method="card", today=date(2028, 3, 1))
    assert offer_order.lines.get().term_start == date(2028, 3, 31)


def test_a_file_moving_d_forward_past_a_paid_term_is_the_vendors_call(tmp_path):
    run_import(write(tmp_path, EXAMPLE))
    pay_by_card("SUB-1001")
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0]["renewal_date"] = "2029-03-31"
    code, out, _err = run_import(write(tmp_path, data))
    assert code == 0 and "left unchanged to protect" not in out
    assert Subscription.objects.get().renewal_date == date(2029, 3, 31)


@pytest.mark.parametrize(
    ("field", "value"),
    [("renewal_date", "2026-03-31"), ("renewal_date", "2028-03-31"), ("start_date", "2025-03-31")],
)
def test_a_file_changing_dates_under_a_pending_payment_is_held_and_the_payment_still_renews(
    tmp_path, field, value
):
    run_import(write(tmp_path, EXAMPLE))
    sub = Subscription.objects.get()
    order = order_for([sub], method="card", today=TODAY)
    payment = actions.start_payment(
        order, method="card", user=order.placed_by, today=TODAY, card_token="4000000000003220"
    )
    assert payment.status == "requires_action"
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0][field] = value
    code, out, _err = run_import(write(tmp_path, data))
    assert code == 0
    assert f"order {order.number} is waiting for its payment" in out
    assert Subscription.objects.get().renewal_date == date(2027, 3, 31)
    SandboxGateway().complete_challenge(payment.reference, passed=True)
    actions.complete_action(payment.reference, today=TODAY)
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)


def test_a_pending_konbini_payment_survives_a_reimport_that_would_move_d(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["customers"][0]["country"] = "JP"
    data["prices"][0].update(currency="JPY", list_price="12000", renewal_price="12000")
    data["subscriptions"][0]["currency"] = "JPY"
    data["subscriptions"][0]["payment_method"] = {"type": "konbini"}
    run_import(write(tmp_path, data))
    sub = Subscription.objects.get()
    order = order_for([sub], method="konbini", today=TODAY)
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    data["subscriptions"][0]["renewal_date"] = "2026-03-31"
    assert import_bytes(write_bytes(data), today=TODAY).summary.held
    _kind, body = SandboxGateway().customer_pays(payment.reference)
    status, answer = receive_webhook(
        "sandbox", body, SandboxGateway().signed_headers(body), today=TODAY
    )
    assert (status, answer["outcome"]) == (200, "applied")
    assert Subscription.objects.get().renewal_date == date(2028, 3, 31)


def write_bytes(data) -> bytes:
    import json

    return json.dumps(data).encode()


def test_the_guard_costs_a_fixed_number_of_queries(tmp_path):
    def file_of(n, renewal):
        data = copy.deepcopy(EXAMPLE)
        base = data["subscriptions"][0]
        data["subscriptions"] = [
            {**base, "id": f"SUB-{i}", "renewal_date": renewal} for i in range(n)
        ]
        return write_bytes(data)

    counts = []
    for n in (5, 50):
        Subscription.objects.all().delete()
        import_bytes(file_of(n, "2027-03-31"), today=TODAY)
        with CaptureQueriesContext(connection) as ctx:
            result = import_bytes(file_of(n, "2026-03-31"), today=TODAY)
        assert result.ok and not result.summary.held
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("today", "held"),
    [
        (date(2027, 5, 14), False),  # the last renewable day: not cancelled yet, the file applies
        (date(2027, 5, 15), True),  # cancelled since today: the file cannot bring it back
    ],
)
def test_a_file_never_brings_back_a_subscription_cancelled_today(today, held):
    import_bytes(write_bytes(EXAMPLE), today=TODAY)
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0]["renewal_date"] = "2028-03-31"
    result = import_bytes(write_bytes(data), today=today)
    assert result.ok
    sub = Subscription.objects.get()
    if held:
        assert sub.renewal_date == date(2027, 3, 31) and sub.stage_on(today) == "cancelled"
        assert "cancelled on 2027-05-15" in result.summary.held[0]
        assert result.summary.held[0].startswith("$.subscriptions[0] (SUB-1001): left unchanged")
    else:
        assert sub.renewal_date == date(2028, 3, 31) and not result.summary.held


def test_a_cancelled_subscription_may_still_get_other_changes_that_keep_it_cancelled():
    import_bytes(write_bytes(EXAMPLE), today=TODAY)
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0]["seats"] = 9
    result = import_bytes(write_bytes(data), today=date(2027, 6, 1))
    assert not result.summary.held and Subscription.objects.get().seats == 9

from datetime import date

import pytest

from renewals.accounts.models import Card
from renewals.checkout.models import Order
from renewals.core.audit import AuditEvent
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.models import Payment, SandboxPayment
from renewals.subscriptions.models import Subscription

from .helpers import TODAY, eur_subscription, order_for

pytestmark = pytest.mark.django_db(transaction=False)


def pay_card(order, number, **kwargs):
    return actions.start_payment(
        order, method="card", user=order.placed_by, card_token=number, today=TODAY, **kwargs
    )


def test_card_4242_succeeds_and_renews_the_term_once():
    sub = eur_subscription()
    order = order_for([sub])
    payment = pay_card(order, "4242 4242 4242 4242")
    payment.refresh_from_db()
    order.refresh_from_db()
    sub.refresh_from_db()
    assert payment.status == "succeeded"
    assert payment.reference.startswith("sbx_")
    assert order.status == "paid"
    assert sub.renewal_date == date(2028, 3, 31)
    assert Email.objects.filter(kind="order-confirmation").count() == 1


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4111111111111111", "invalid_number"),
    ],
)
def test_declined_cards_fail_the_order_and_renew_nothing(number, code):
    sub = eur_subscription()
    order = order_for([sub])
    payment = pay_card(order, number)
    order.refresh_from_db()
    sub.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", code)
    assert order.status == "failed"
    assert order.lines.get().holds_term is False
    assert sub.renewal_date == date(2027, 3, 31)
    assert not Email.objects.filter(kind="order-confirmation").exists()


def test_3220_card_requires_action_then_completes_after_the_challenge():
    sub = eur_subscription()
    order = order_for([sub])
    payment = pay_card(order, "4000000000003220", return_url="/billing/orders/x/")
    order.refresh_from_db()
    assert payment.status == "requires_action"
    assert payment.action_url == f"/sandbox/3ds/{payment.reference}/"
    assert order.status == "requires_action"
    from renewals.payments.gateways.sandbox import SandboxGateway

    SandboxGateway().complete_challenge(payment.reference, passed=True)
    actions.complete_action(payment.reference, today=TODAY)
    actions.complete_action(
        payment.reference, today=TODAY
    )  # a reloaded return page changes nothing
    payment.refresh_from_db()
    order.refresh_from_db()
    sub.refresh_from_db()
    assert payment.status == "succeeded"
    assert order.status == "paid"
    assert sub.renewal_date == date(2028, 3, 31)
    assert Email.objects.filter(kind="order-confirmation").count() == 1


def test_failed_challenge_fails_the_order_with_authentication_failed():
    sub = eur_subscription()
    order = order_for([sub])
    payment = pay_card(order, "4000000000003220")
    from renewals.payments.gateways.sandbox import SandboxGateway

    SandboxGateway().complete_challenge(payment.reference, passed=False)
    actions.complete_action(payment.reference, today=TODAY)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "authentication_failed")
    assert order.status == "failed"


def test_saved_card_token_is_charged_off_session():
    sub = eur_subscription(auto_renew=True)
    order = order_for([sub], automatic=True)
    payment = actions.start_payment(
        order,
        method="card",
        user=sub.purchaser,
        card_id=sub.card_id,
        off_session=True,
        today=TODAY,
    )
    assert payment.status == "succeeded"
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_3220_saved_card_off_session_fails_with_authentication_required():
    sub = eur_subscription(auto_renew=True)
    card = Card.objects.create(
        user=sub.purchaser, token="pm_sandbox_4000000000003220", last4="3220"
    )
    order = order_for([sub], automatic=True)
    payment = actions.start_payment(
        order, method="card", user=sub.purchaser, card_id=card.pk, off_session=True, today=TODAY
    )
    assert (payment.status, payment.failure_code) == ("failed", "authentication_required")


def test_saving_the_card_makes_it_the_subscriptions_payment_method():
    sub = eur_subscription(payment_method=None)
    order = order_for([sub])
    pay_card(order, "4242424242424242", save_card=True)
    sub.refresh_from_db()
    card = Card.objects.get(user=sub.purchaser, token="pm_sandbox_4242424242424242")
    assert (sub.payment_method, sub.card_id, card.last4) == ("card", card.pk, "4242")


def test_starting_the_payment_twice_returns_the_first_payment_and_charges_once():
    sub = eur_subscription()
    order = order_for([sub])
    first = pay_card(order, "4242424242424242")
    second = pay_card(order, "4242424242424242")
    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    assert SandboxPayment.objects.count() == 1


def test_a_saved_card_of_another_user_is_refused_and_nothing_is_created():
    sub = eur_subscription()
    other = eur_subscription()
    order = order_for([sub])
    with pytest.raises(DomainError) as refused:
        actions.start_payment(
            order, method="card", user=sub.purchaser, card_id=other.card_id, today=TODAY
        )
    assert refused.value.code == "card_not_found"
    assert Payment.objects.count() == 0


def test_each_transition_writes_an_audit_event():
    sub = eur_subscription()
    order = order_for([sub])
    payment = pay_card(order, "4242424242424242")
    actions_ = list(
        AuditEvent.objects.filter(object_type="payments.payment", object_id=str(payment.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions_ == ["payment_created", "payment_succeeded"]


def test_a_card_payment_after_the_subscription_was_renewed_elsewhere_is_never_fulfilled_twice():
    sub = eur_subscription()
    order = order_for([sub])
    pay_card(order, "4242424242424242")
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)
    assert actions.payment_succeeded(order.payment.reference, source="test", today=TODAY) is False
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2028, 3, 31)


def test_an_unreachable_gateway_never_fails_the_payment_it_stays_confirming(monkeypatch):
    """R10: a lost answer is not a refusal — the term stays held until the gateway answers."""

    class Down:
        name = "sandbox"
        find_may_lag = False

        def create_payment(self, request):
            raise ConnectionError("gateway unreachable")

        def find_payment(self, key):
            raise TimeoutError("still unreachable")

    monkeypatch.setattr("renewals.payments.gateways.get_gateway", lambda name=None: Down())
    sub = eur_subscription()
    order = order_for([sub])
    payment = pay_card(order, "4242424242424242")
    order.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("confirming", "")
    assert (order.status, order.lines.get().holds_term) == ("confirming", True)
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2027, 3, 31)
    calls = list(payment.gateway_calls.values_list("kind", "outcome"))
    assert calls == [("create_payment", "unknown"), ("find_payment", "unknown")]

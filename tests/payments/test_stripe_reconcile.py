"""The reconciler with Stripe: a crash between the charge and its recording (R4, R10, R16).

Stripe's answers are RECORDED responses (no network). The crash is simulated as in
tests/reliability/test_crash_recovery.py: the recording step dies after Stripe answered, so the
Payment stays `created` under its provisional reference and only the idempotency key (kept in the
PaymentIntent's metadata) can find it again.
"""

from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.utils import timezone

from renewals.checkout.models import Order
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.gateways.stripe import StripeGateway
from renewals.payments.models import Payment
from renewals.payments.reconcile import reconcile_stuck_payments
from renewals.subscriptions.models import Subscription, Term

from .helpers import TODAY, eur_subscription, order_for
from .test_stripe import RecordedStripe

KEY = "renewals-order-R-2027-000001"
NOTHING = {"recorded": 0, "not_at_gateway": 0, "completed": 0, "unknown": 0}


class Killed(BaseException):
    """The process dies: not an Exception, so no handler on the way turns it into a failure."""


def _die(*args, **kwargs):
    raise Killed


@pytest.fixture
def stripe_answers(settings, monkeypatch):
    """Make every gateway lookup Stripe, answering with the given recorded responses."""
    settings.PAYMENT_GATEWAY = "stripe"

    def install(*responses):
        http = RecordedStripe(*responses)
        gateway = StripeGateway(api_key="sk_test_recorded", http_client=http)
        for module in ("actions", "reconcile"):
            monkeypatch.setattr(
                f"renewals.payments.{module}.get_gateway", lambda name=None: gateway
            )
        return http

    return install


@pytest.fixture
def crashed_payment(stripe_answers, monkeypatch):
    """A card checkout Stripe charged whose process died before recording the answer."""
    http = stripe_answers(("pi_card_succeeded", 200))
    order = order_for([eur_subscription(payment_method=None)])
    with monkeypatch.context() as patch:
        patch.setattr(actions, "record_result", _die)
        with pytest.raises(Killed):
            actions.start_payment(
                order, method="card", user=order.placed_by, card_token="pm_card_visa", today=TODAY
            )
    assert order.number == "R-2027-000001"
    # What create_payment sent is what find_payment will search for.
    assert f"metadata[idempotency_key]={KEY}" in http.requests[0]["body"]
    # The crash is older than the reconciler's grace delay by the time it runs.
    Payment.objects.update(created=timezone.now() - timedelta(hours=1))
    payment = Payment.objects.get()
    assert (payment.gateway, payment.status, payment.reference[:4]) == ("stripe", "created", "new_")
    return payment


def _renewal_date() -> date:
    return Subscription.objects.get().renewal_date


@pytest.mark.django_db
def test_a_charged_but_unrecorded_stripe_payment_is_found_by_its_key_and_fulfilled_once(
    crashed_payment, stripe_answers
):
    http = stripe_answers(("search_pi_card_succeeded", 200))

    assert reconcile_stuck_payments(created_before=timezone.now(), today=TODAY) == {
        **NOTHING,
        "recorded": 1,
    }

    (search,) = http.requests
    assert (search["method"], unquote(search["url"])) == (
        "get",
        "https://api.stripe.com/v1/payment_intents/search"
        f"?query=metadata['idempotency_key']:'{KEY}'&expand[0]=data.payment_method",
    )
    payment = Payment.objects.get()
    assert (payment.status, payment.reference) == ("succeeded", "pi_3QabcCrashed00001")
    assert Order.objects.get().status == "paid"
    assert _renewal_date() == date(2028, 3, 31)
    assert Term.objects.count() == 2
    assert Email.objects.filter(kind="order-confirmation").count() == 1

    # A second run finds nothing stuck: it asks Stripe nothing and changes nothing.
    assert reconcile_stuck_payments(created_before=timezone.now(), today=TODAY) == NOTHING
    assert len(http.requests) == 1
    assert (Payment.objects.get().status, Order.objects.get().status) == ("succeeded", "paid")
    assert _renewal_date() == date(2028, 3, 31)
    assert Term.objects.count() == 2
    assert Email.objects.filter(kind="order-confirmation").count() == 1


@pytest.mark.django_db
def test_a_stripe_payment_the_search_does_not_find_is_left_to_its_deadline(
    crashed_payment, stripe_answers
):
    # Stripe's search trails its writes: an empty answer is no proof the card was not charged.
    http = stripe_answers(("search_empty", 200), ("search_empty", 200))

    assert reconcile_stuck_payments(created_before=timezone.now(), today=TODAY) == {
        **NOTHING,
        "unknown": 1,
    }

    assert len(http.requests) == 1
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("created", "")
    order = Order.objects.get()
    assert (order.status, list(order.lines.values_list("holds_term", flat=True))) == (
        "pending_payment",
        [True],
    )
    assert _renewal_date() == date(2027, 3, 31)
    assert Term.objects.count() == 1

    # The next run asks again; past the deadline the expiry fails it and releases the term.
    assert reconcile_stuck_payments(created_before=timezone.now(), today=TODAY) == {
        **NOTHING,
        "unknown": 1,
    }
    assert actions.expire_overdue_payments(payment.expires_on) == 0
    assert actions.expire_overdue_payments(payment.expires_on + timedelta(days=1)) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "no_gateway_answer")
    order.refresh_from_db()
    assert (order.status, order.lines.get().holds_term) == ("failed", False)
    assert _renewal_date() == date(2027, 3, 31)


def test_find_payment_normalises_the_intent_as_retrieve_payment_does():
    http = RecordedStripe(("search_pi_card_saved", 200), ("pi_card_succeeded_after_3ds", 200))
    gateway = StripeGateway(api_key="sk_test_x", http_client=http)

    found = gateway.find_payment(KEY)

    assert found == gateway.retrieve_payment("pi_3Qabc3dsChallenge1")
    assert (found.outcome, found.reference) == ("succeeded", "pi_3Qabc3dsChallenge1")
    assert found.saved_card.token == "cus_QabcCustomer01:pm_1Qabc3ds00000001"


def test_find_payment_is_none_when_the_search_finds_nothing():
    http = RecordedStripe(("search_empty", 200))
    assert StripeGateway(api_key="sk_test_x", http_client=http).find_payment(KEY) is None


def test_find_payment_escapes_quotes_in_the_key():
    http = RecordedStripe(("search_empty", 200))
    StripeGateway(api_key="sk_test_x", http_client=http).find_payment("it's")
    assert "query=metadata['idempotency_key']:'it\\'s'" in unquote(http.requests[0]["url"])

"""The checks themselves: they must catch what Stripe would refuse, and pass what it sends."""

import json

import pytest
import stripe
from stripe.params import PaymentIntentCreateParams
from stripe.params.checkout import SessionCreateParams

from .fake_objects import FIXTURES
from .shapes import SHAPES_VERSION, ShapeError, check_object, check_params, decode_form

RESPONSES = {
    "payment_intent": stripe.PaymentIntent,
    "checkout_session": stripe.checkout.Session,
    "customer": stripe.Customer,
    "payment_method_card": stripe.PaymentMethod,
    "cash_balance": stripe.CashBalance,
    "customer_cash_balance_transaction": stripe.CustomerCashBalanceTransaction,
    "event": stripe.Event,
}


def test_the_shapes_are_those_of_the_pinned_sdk():
    # The fixtures and checks were written against these; a new SDK may change the shapes.
    assert (stripe.VERSION, stripe.api_version) == (
        SHAPES_VERSION["stripe-python"],
        SHAPES_VERSION["api_version"],
    )


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_fixture_is_a_valid_stripe_object(name):
    check_object(json.loads((FIXTURES / f"{name}.json").read_text()), RESPONSES[name])


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": "done"}, "is not one of"),
        ({"amount": "680400"}, "expected int"),
        ({"invented_field": 1}, "not a field of PaymentIntent"),
        ({"next_action": {"type": "redirect_to_url", "redirect_to_url": {"uri": "x"}}}, "uri"),
    ],
)
def test_a_response_unlike_stripe_is_refused(change, error):
    intent = {**json.loads((FIXTURES / "payment_intent.json").read_text()), **change}
    with pytest.raises(ShapeError, match=error):
        check_object(intent, stripe.PaymentIntent)


def test_form_bodies_decode_to_nested_parameters():
    assert decode_form("a[b][0]=x&a[b][1]=y&c=1&m[order]=R-1") == {
        "a": {"b": ["x", "y"]},
        "c": "1",
        "m": {"order": "R-1"},
    }


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("amount=100&currency=eur&payment_method_types[0]=card", "payment_method_types: not a"),
        ("amount=100&currency=eur&confirm=yes", "expected a boolean"),
        ("currency=eur", "missing required"),
        ("amount=1&currency=eur&allowed_payment_method_types[0]=kard", "'kard' is not one of"),
        ("amount=1&currency=eur&setup_future_usage=always", "'always' is not one of"),
    ],
)
def test_a_request_unlike_stripe_is_refused(body, error):
    with pytest.raises(ShapeError, match=error):
        check_params(decode_form(body), PaymentIntentCreateParams)


def test_a_checkout_session_request_is_checked_to_the_leaves():
    ok = (
        "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=eur"
        "&line_items[0][price_data][unit_amount]=100&line_items[0][price_data][product_data]"
        "[name]=x&payment_intent_data[setup_future_usage]=off_session"
    )
    check_params(decode_form(ok), SessionCreateParams)
    with pytest.raises(ShapeError, match="unit_amount: expected an integer"):
        check_params(decode_form(ok.replace("=100", "=1.5e2")), SessionCreateParams)
    with pytest.raises(ShapeError, match="'pay' is not one of"):
        check_params(decode_form(ok.replace("mode=payment", "mode=pay")), SessionCreateParams)

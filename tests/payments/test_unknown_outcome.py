"""The rules of a lost answer (R10): what a lookup's answer does to a payment; the redaction of
the gateway-call ledger."""

import pytest

from renewals.payments import rules
from renewals.payments.ledger import redact


@pytest.mark.parametrize(
    ("current", "outcome", "lags", "becomes"),
    [
        ("confirming", "succeeded", True, "succeeded"),
        ("confirming", "failed", False, "failed"),
        ("confirming", "requires_action", False, "requires_action"),
        ("confirming", "pending", True, "pending"),
        ("confirming", "unknown", False, None),  # still lost: nothing changes
        ("confirming", None, True, None),  # Stripe's search has not seen it yet
        ("confirming", None, False, "failed"),  # a lookup that does not lag: never made
        ("created", None, False, "failed"),
        ("created", "succeeded", False, "succeeded"),
        ("requires_action", None, False, None),  # a challenge waits for the customer
        ("succeeded", "failed", False, None),  # a settled payment is never moved by a lookup
        ("failed", "succeeded", False, None),
        ("expired", "succeeded", True, None),
    ],
)
def test_what_a_lookup_makes_of_a_payment(current, outcome, lags, becomes):
    assert rules.after_lookup(current, outcome, lookup_may_lag=lags) == becomes


def test_confirming_is_never_expired_by_a_date_nor_failed_without_an_answer():
    assert rules.can_transition("created", "confirming")
    assert rules.can_transition("requires_action", "confirming")
    assert "confirming" in rules.OPEN
    assert not rules.can_transition("confirming", "refunded")


def test_the_ledger_redacts_secrets_and_card_numbers():
    raw = {
        "client_secret": "pi_1_secret_abc",
        "error": "card 4242 4242 4242 4242 declined for sk_test_51Habc",
        "nested": [{"card_number": "4000000000000002", "last4": "0002"}],
        "amount": 680400,
    }
    assert redact(raw) == {
        "client_secret": "[redacted]",
        "error": "card [card number] declined for [redacted]",
        "nested": [{"card_number": "[redacted]", "last4": "0002"}],
        "amount": 680400,
    }

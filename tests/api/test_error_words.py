"""An API refusal keeps its code and status in every language; its message is in the caller's."""

import pytest

from .conftest import error_of


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "A cart holds at most 100 subscriptions; this would make 101. Nothing was added."),
        ("fr", "Un panier contient au plus 100 abonnements\u202f; il en compterait 101."),
        ("ja", "カートに入れられるサブスクリプションは最大100件です。"),
    ],
)
def test_a_refusal_is_answered_in_the_accept_language(api, today, language, words):
    response = api.post(
        "/api/v1/cart/items",
        {"subscription_ids": [f"SUB-{n}" for n in range(101)]},
        content_type="application/json",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "too_many"
    assert error["message"].startswith(words)
    assert error["details"] == [{"limit": 100, "would_be": 101}]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            "SUB-TR: automatic renewal cannot be changed. A trial never renews automatically. "
            "Automatic renewal needs a saved card as the payment method.",
        ),
        (
            "fr",
            "SUB-TR\u00a0: le renouvellement automatique ne peut pas être modifié. "
            "Un essai n’est jamais renouvelé automatiquement. Le renouvellement automatique",
        ),
        ("ja", "SUB-TR：自動更新は変更できません。トライアルは自動更新されません。自動更新には"),
    ],
)
def test_an_auto_renew_refusal_says_each_reason_in_words(api, user, customer, language, words):
    """R11's reasons are sentences of the caller's language, never the rules' codes."""
    from tests.factories import SubscriptionFactory

    SubscriptionFactory(
        id="SUB-TR", customer=customer, purchaser=user, trial=True, payment_method="konbini"
    )
    response = api.patch(
        "/api/v1/subscriptions/SUB-TR",
        {"auto_renew": True},
        content_type="application/json",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "auto_renew_refused"
    assert error["message"].startswith(words)
    assert "trial" not in error["message"].replace("trial never", "")
    assert error["details"] == [
        {"id": "SUB-TR", "reasons": ["trial", "payment_method_not_recurring"]}
    ]


def test_a_staff_settings_refusal_says_each_reason_in_words(user, customer):
    from renewals.subscriptions.actions import SettingsRefused

    error = SettingsRefused(id="SUB-1", reasons=("not_purchaser", "partner_managed"))
    assert error.message == (
        "SUB-1: automatic renewal cannot be changed. Only the purchaser can turn automatic "
        "renewal on or off. This subscription is renewed through a partner; its automatic "
        "renewal is theirs to set."
    )

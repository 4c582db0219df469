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

"""A card that still pays auto-renewing subscriptions names them as a list of the reader's
language: "A, B" in English, "A、B" in Japanese (#17), written when the words are read."""

import pytest
from django.utils import translation

from renewals.core.errors import DomainError
from renewals.payments.cards import remove_card
from tests.factories import CardFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db


def _refusal() -> DomainError:
    user = UserFactory()
    card = CardFactory(user=user)
    for sub_id in ("SUB-B", "SUB-A"):
        priced_subscription(id=sub_id, purchaser=user, card=card, auto_renew=True)
    with pytest.raises(DomainError) as refused:
        remove_card(user, card.pk)
    return refused.value


def test_the_subscriptions_a_card_pays_are_listed_in_the_language_of_the_reader():
    error = _refusal()
    assert error.code == "card_in_use" and error.details == ["SUB-A", "SUB-B"]
    with translation.override("en"):
        assert "(SUB-A, SUB-B)" in error.message
    with translation.override("ja"):
        assert "SUB-A、SUB-B" in error.message and "SUB-A, " not in error.message
    with translation.override("fr"):
        assert "SUB-A, SUB-B" in error.message

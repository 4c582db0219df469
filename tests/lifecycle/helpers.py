"""Shared builders of the lifecycle tests."""

from collections import Counter

from renewals.lifecycle.models import Notice
from renewals.notifications.models import Email
from tests.factories import CardFactory, UserFactory, priced_subscription

DECLINED = "pm_sandbox_4000000000000002"


def subscription(purchaser=None, *, declined=False, **kwargs):
    """A priced subscription; `declined=True` gives it a card the sandbox declines."""
    purchaser = purchaser or UserFactory()
    if declined:
        kwargs["card"] = CardFactory(user=purchaser, token=DECLINED, last4="0002")
    return priced_subscription(purchaser=purchaser, **kwargs)


def notices() -> Counter:
    return Counter(Notice.objects.values_list("subscription_id", "step"))


def emails(kind=None):
    qs = Email.objects.order_by("id")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)

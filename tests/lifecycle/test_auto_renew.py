"""Turning auto-renew on and off, one or up to 100 at once (R8, R11)."""

from datetime import date, timedelta

import pytest

from renewals.api.errors import STATUS
from renewals.core.errors import DomainError
from renewals.core.models import AuditEvent
from renewals.notifications.models import Email
from renewals.subscriptions.auto_renew import AutoRenewResult, change_auto_renew
from renewals.subscriptions.models import Subscription
from tests.factories import MembershipFactory, PartnerFactory, SubscriptionFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 1)


def settings_of(*subs):
    return {s.pk: s for s in Subscription.objects.filter(pk__in=[x.pk for x in subs])}


def test_purchaser_turns_auto_renew_on_for_several_with_one_email(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="marie@dupont.example")
    a = SubscriptionFactory(purchaser=user, renewal_date=TODAY + timedelta(days=20))
    b = SubscriptionFactory(purchaser=user, renewal_date=TODAY - timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        results = change_auto_renew(
            user=user, subscription_ids=[a.pk, b.pk], turn_on=True, today=TODAY
        )

    assert results == [AutoRenewResult(a.pk, True, ()), AutoRenewResult(b.pk, True, ())]
    assert {s.auto_renew for s in settings_of(a, b).values()} == {True}
    (email,) = Email.objects.all()
    assert (email.kind, email.to) == ("auto-renew-changed", "marie@dupont.example")
    assert email.headers["X-Renewals-Subscriptions"] == f"{a.pk},{b.pk}"
    assert email.subject == "Auto-renew turned on"
    assert "charged on the next daily run" in email.text  # b is expired (R12)
    assert email.status == "sent"
    assert AuditEvent.objects.filter(action="auto_renew_on").count() == 2


def test_every_refusal_reason_is_reported_per_id_and_nothing_changes():
    user = UserFactory()
    admin_only = SubscriptionFactory()
    MembershipFactory(user=user, customer=admin_only.customer)
    konbini = SubscriptionFactory(purchaser=user, payment_method="konbini", currency="JPY")
    partner = SubscriptionFactory(
        purchaser=user, purchase_method="partner", partner=PartnerFactory(), payment_method=None
    )
    trial = SubscriptionFactory(purchaser=user, trial=True)
    cancelled = SubscriptionFactory(purchaser=user, renewal_date=TODAY - timedelta(days=45))
    stranger = SubscriptionFactory()

    results = change_auto_renew(
        user=user,
        subscription_ids=[
            admin_only.pk,
            konbini.pk,
            partner.pk,
            trial.pk,
            cancelled.pk,
            stranger.pk,
            "nope",
        ],
        turn_on=True,
        today=TODAY,
    )

    assert {r.id: r.reasons for r in results} == {
        admin_only.pk: ("not_purchaser",),
        konbini.pk: ("payment_method_not_recurring",),
        partner.pk: ("partner_managed", "payment_method_not_recurring"),
        trial.pk: ("trial",),
        cancelled.pk: ("cancelled",),
        stranger.pk: ("not_found",),
        "nope": ("not_found",),
    }
    assert not any(r.ok for r in results)
    assert not Subscription.objects.filter(auto_renew=True).exists()
    assert Email.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="auto_renew").count() == 0


def test_turning_off_needs_no_recurring_method_and_suspended_still_counts():
    user = UserFactory()
    sub = SubscriptionFactory(
        purchaser=user, auto_renew=True, renewal_date=TODAY - timedelta(days=44)
    )
    (result,) = change_auto_renew(user=user, subscription_ids=[sub.pk], turn_on=False, today=TODAY)
    assert result == AutoRenewResult(sub.pk, True, ())
    sub.refresh_from_db()
    assert sub.auto_renew is False


def test_unchanged_setting_is_ok_and_sends_no_email():
    user = UserFactory()
    sub = SubscriptionFactory(purchaser=user, auto_renew=True)
    (result,) = change_auto_renew(user=user, subscription_ids=[sub.pk], turn_on=True, today=TODAY)
    assert result.ok
    assert Email.objects.count() == 0


def test_more_than_100_is_refused_and_changes_nothing():
    user = UserFactory()
    sub = SubscriptionFactory(purchaser=user)
    ids = [sub.pk] + [f"X-{n}" for n in range(100)]
    with pytest.raises(DomainError) as refused:
        change_auto_renew(user=user, subscription_ids=ids, turn_on=True, today=TODAY)
    assert (refused.value.code, STATUS[refused.value.code]) == ("too_many", 422)
    sub.refresh_from_db()
    assert sub.auto_renew is False


def test_100_changes_take_a_fixed_number_of_queries(django_assert_max_num_queries):
    user = UserFactory()
    subs = [SubscriptionFactory(purchaser=user) for _ in range(100)]
    # 12 before the events of R22, which add 8 whatever the number: shapes, sequences, INSERTs.
    with django_assert_max_num_queries(20):
        results = change_auto_renew(
            user=user, subscription_ids=[s.pk for s in subs], turn_on=True, today=TODAY
        )
    assert all(r.ok for r in results)
    assert Subscription.objects.filter(auto_renew=True).count() == 100
    assert Email.objects.count() == 1

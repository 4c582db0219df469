"""The daily run racing a checkout, and two daily runs at once (issue #14, R13, R16).

The probe saw an "expired" email leave 0.8 s after a checkout renewed the subscription: the run
had loaded the subscription before the payment and queued the notice after it. And two daily
runs of one date at once reported 1 automatic charge for the 5 they made: the second run's
start reset the counts and the first run's chunks were then ignored.
"""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection

from renewals.lifecycle import daily
from renewals.lifecycle.models import ChargeAttempt, DailyRun, Notice
from renewals.notifications.models import Email
from renewals.subscriptions.actions import renew_subscriptions
from renewals.subscriptions.models import Subscription
from tests.lifecycle.helpers import subscription

TODAY = date(2026, 5, 1)


def _renew_during_the_run(monkeypatch, sub_id):
    """A checkout that renews `sub_id` after the run loaded it, before it queues the notices."""
    real = daily._send_all

    def checkout_meanwhile(ordered, prices, *, today):
        sub = Subscription.objects.get(pk=sub_id)
        renew_subscriptions(
            [(sub.pk, sub.renewal_date)], order_number="R-RACE", source="order", today=today
        )
        return real(ordered, prices, today=today)

    monkeypatch.setattr(daily, "_send_all", checkout_meanwhile)


@pytest.mark.django_db
def test_no_expired_email_for_a_subscription_renewed_while_the_run_worked(monkeypatch):
    renewed = subscription(renewal_date=TODAY)  # expired today: the notice is due
    other = subscription(renewal_date=TODAY)  # not renewed: keeps its notice
    _renew_during_the_run(monkeypatch, renewed.pk)

    run = daily.run_daily(TODAY)

    assert list(Notice.objects.values_list("subscription_id", "step")) == [
        (other.pk, "subscription-expired")
    ]
    (email,) = Email.objects.filter(kind="subscription-expired")
    assert email.to == other.purchaser.email
    assert renewed.pk not in email.text
    assert run.counts["notices"] == {"subscription-expired": 1}
    monkeypatch.undo()
    # The next pass of the run decides from the new facts: nothing is due for the renewed one.
    daily.run_daily(TODAY)
    assert Notice.objects.filter(subscription=renewed).count() == 0


@pytest.mark.django_db
def test_a_digest_keeps_the_other_subscriptions_of_the_purchaser(monkeypatch):
    first = subscription(renewal_date=TODAY)
    second = subscription(first.purchaser, renewal_date=TODAY)
    _renew_during_the_run(monkeypatch, first.pk)

    daily.run_daily(TODAY)

    (email,) = Email.objects.filter(kind="subscription-expired")
    assert email.headers["X-Renewals-Subscriptions"] == second.pk
    assert set(Notice.objects.values_list("subscription_id", flat=True)) == {second.pk}


@pytest.mark.django_db
def test_a_run_replaced_by_a_second_one_still_counts_its_charges(
    django_capture_on_commit_callbacks,
):
    subs = [subscription(renewal_date=TODAY, auto_renew=True) for _ in range(5)]
    first, first_invocation, first_chunks = daily.start(TODAY, chunk_size=2)
    first_results = [daily.process_chunk(TODAY, first.since, ids) for ids in first_chunks]
    # A second run starts while the first has charged everything but recorded nothing.
    second, second_invocation, second_chunks = daily.start(TODAY, chunk_size=2)
    for index, result in enumerate(first_results):
        daily.record_chunk(first.pk, first_invocation, index, result)
    for index, ids in enumerate(second_chunks):
        result = daily.process_chunk(TODAY, second.since, ids)
        assert result["charges"] == {}  # the first run made them all
        daily.record_chunk(second.pk, second_invocation, index, result)

    row = DailyRun.objects.get(business_date=TODAY)
    assert row.status == "finished"
    assert row.counts["charges"] == {"succeeded": 5}
    assert ChargeAttempt.objects.filter(status="succeeded").count() == len(subs)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_daily_runs_report_every_charge_once():
    subs = [subscription(renewal_date=TODAY, auto_renew=True) for _ in range(5)]
    barrier = threading.Barrier(2)
    runs = []

    def run():
        try:
            barrier.wait(10)
            runs.append(daily.run_daily(TODAY, chunk_size=1))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    made = ChargeAttempt.objects.filter(status="succeeded").count()
    assert made == len(subs)
    reported = [sum(r.counts.get("charges", {}).values()) for r in runs]
    assert sum(reported) == made, reported  # each run reports what it did
    row = DailyRun.objects.get(business_date=TODAY)
    assert sum(row.counts["charges"].values()) == made  # the row: what the date's runs did
    for sub in subs:
        sub.refresh_from_db()
        assert sub.renewal_date == TODAY + timedelta(days=365)

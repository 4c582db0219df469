"""The daily run (R12, R14, R16) against the database, in-process."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from renewals.checkout.models import Order
from renewals.lifecycle import daily
from renewals.lifecycle.models import ChargeAttempt, DailyRun, Notice
from renewals.subscriptions.models import Subscription, Term
from tests.factories import UserFactory

from .helpers import emails, notices, subscription

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 1)


def days(n):
    return timedelta(days=n)


def test_reminders_of_one_purchaser_on_one_day_share_one_email_listing_them_all():
    marie = UserFactory(email="marie@dupont.example", language="en")
    subs = [subscription(marie, renewal_date=TODAY + days(30)) for _ in range(3)]
    other = subscription(renewal_date=TODAY + days(45))

    run = daily.run_daily(TODAY)

    reminders = emails("renewal-reminder")
    assert len(reminders) == 2
    mine = next(e for e in reminders if e.to == "marie@dupont.example")
    assert mine.headers["X-Renewals-Event"] == "renewal-reminder"
    assert mine.headers["X-Renewals-Subscriptions"] == ",".join(sorted(s.pk for s in subs))
    assert mine.dedupe_key == f"renewal-reminder:{marie.pk}:2026-05-01"
    assert mine.subject == "Reminder: 3 subscriptions need to be renewed"
    for s in subs:
        # interfaces.md §5: renewal emails link to the subscription's renew page.
        assert f"/billing/subscriptions/{s.pk}/renew/" in mine.text
        assert f"/billing/subscriptions/{s.pk}/renew/" in mine.html
    assert notices() == {
        **{(s.pk, "renewal-reminder@D-30"): 1 for s in subs},
        (other.pk, "renewal-reminder@D-45"): 1,
    }
    assert run.status == "finished"
    assert run.counts["notices"] == {"renewal-reminder": 4}
    assert run.counts["emails"] == {"renewal-reminder": 2}


def test_second_run_for_the_same_date_does_nothing():
    subscription(renewal_date=TODAY + days(90))
    subscription(renewal_date=TODAY - days(15))
    daily.run_daily(TODAY)
    before = (notices(), len(emails()))

    again = daily.run_daily(TODAY)

    assert (notices(), len(emails())) == before
    assert again.counts.get("notices", {}) == {}
    assert again.counts.get("charges", {}) == {}
    assert DailyRun.objects.count() == 1


def test_stage_notices_follow_the_lapse_date():
    expired = subscription(renewal_date=TODAY)
    suspended = subscription(renewal_date=TODAY - days(15))
    cancelled = subscription(renewal_date=TODAY - days(45))
    monthly = subscription(term="monthly", renewal_date=TODAY - days(30))

    daily.run_daily(TODAY)

    assert notices() == {
        (expired.pk, "subscription-expired"): 1,
        (suspended.pk, "subscription-suspended"): 1,
        (cancelled.pk, "subscription-cancelled"): 1,
        (monthly.pk, "subscription-cancelled"): 1,
    }
    assert sorted(e.kind for e in emails()) == [
        "subscription-cancelled",
        "subscription-cancelled",
        "subscription-expired",
        "subscription-suspended",
    ]


def test_notices_are_written_in_the_purchasers_language():
    akiko = UserFactory(language="ja")
    subscription(akiko, renewal_date=TODAY, currency="JPY")
    daily.run_daily(TODAY)
    (email,) = emails("subscription-expired")
    assert email.language == "ja"
    assert "期限" in email.subject or "失効" in email.subject


def test_run_after_missed_days_sends_only_the_latest_due_notice():
    sub = subscription(renewal_date=TODAY + days(50))
    daily.run_daily(TODAY)  # nothing due: D-50
    later = TODAY + days(66)  # D+16: D-45, D-30, D-4, D and D+15 were missed

    run = daily.run_daily(later)

    assert run.since == TODAY
    assert notices() == {(sub.pk, "subscription-suspended"): 1}
    assert [e.kind for e in emails()] == ["subscription-suspended"]


def test_no_notice_for_a_term_already_renewed():
    sub = subscription(renewal_date=TODAY + days(4))
    from renewals.subscriptions.actions import renew_subscriptions

    renew_subscriptions(
        [(sub.pk, sub.renewal_date)], order_number="R-1", source="order", today=TODAY
    )
    for n in range(0, 50):
        daily.run_daily(TODAY + days(n))
    assert notices() == {}
    assert emails() == []


def test_auto_renewal_is_charged_on_d_at_the_renewal_price_and_renewed(
    django_capture_on_commit_callbacks,
):
    sub = subscription(renewal_date=TODAY, auto_renew=True, seats=2)
    with django_capture_on_commit_callbacks(execute=True):
        run = daily.run_daily(TODAY)

    sub.refresh_from_db()
    assert sub.renewal_date == date(2027, 5, 1)
    assert sub.lapse_date == date(2027, 5, 1)
    term = Term.objects.get(subscription=sub, start=TODAY)
    order = Order.objects.get(number=term.order_number)
    assert (order.automatic, order.status, str(order.subtotal)) == (True, "paid", "3780.000")
    (attempt,) = ChargeAttempt.objects.all()
    assert (attempt.attempt, attempt.status, attempt.order_id) == (0, "succeeded", order.pk)
    assert run.counts["charges"] == {"succeeded": 1}
    assert notices() == {}  # renewed first: no expiry notice
    assert [e.kind for e in emails()] == ["auto-renewal-receipt"]


def test_a_chunk_reloads_only_what_its_charges_touched_and_notices_stay_right(monkeypatch):
    """After the charges a chunk reloads the charged subscriptions only (#15): the renewed one
    gets no expiry notice, the declined one and the others get theirs as before."""
    buyer = UserFactory()
    renewed = subscription(buyer, renewal_date=TODAY, auto_renew=True)
    declined = subscription(buyer, renewal_date=TODAY, auto_renew=True, declined=True)
    reminded = subscription(buyer, renewal_date=TODAY + days(30))
    expired = subscription(buyer, renewal_date=TODAY)
    loads = []
    load = daily._load
    monkeypatch.setattr(daily, "_load", lambda ids: loads.append(sorted(ids)) or load(ids))

    run = daily.run_daily(TODAY)

    assert loads[1:] == [sorted([renewed.pk, declined.pk])]  # the chunk, then the two charged
    assert len(loads[0]) == 4
    assert run.counts["charges"] == {"succeeded": 1, "failed": 1}
    steps = notices()
    assert not any(sub_id == renewed.pk for sub_id, _step in steps)
    assert (reminded.pk, "renewal-reminder@D-30") in steps
    assert (expired.pk, "subscription-expired") in steps


def test_failed_auto_renewal_is_retried_on_d_plus_1_3_7_and_emails_each_failure():
    sub = subscription(renewal_date=TODAY, auto_renew=True, declined=True)
    for n in range(0, 12):
        daily.run_daily(TODAY + days(n))

    attempts = list(
        ChargeAttempt.objects.order_by("attempt").values_list("attempt", "business_date", "status")
    )
    assert attempts == [
        (0, TODAY, "failed"),
        (1, TODAY + days(1), "failed"),
        (2, TODAY + days(3), "failed"),
        (3, TODAY + days(7), "failed"),
    ]
    assert Order.objects.filter(status="failed").count() == 4
    failures = emails("auto-renewal-failed")
    assert [e.dedupe_key for e in failures] == [
        f"auto-renewal-failed:{sub.purchaser_id}:{(TODAY + days(n)).isoformat()}"
        for n in (0, 1, 3, 7)
    ]
    assert "/billing/payment-methods/" in failures[0].text
    assert f"/billing/subscriptions/{sub.pk}/renew/" in failures[0].text
    sub.refresh_from_db()
    assert sub.renewal_date == TODAY
    assert notices() == {(sub.pk, "subscription-expired"): 1}


def test_auto_renew_turned_on_while_expired_is_charged_on_the_next_run():
    sub = subscription(renewal_date=TODAY - days(10), auto_renew=False)
    Subscription.objects.filter(pk=sub.pk).update(auto_renew=True)
    daily.run_daily(TODAY)
    (attempt,) = ChargeAttempt.objects.all()
    assert (attempt.attempt, attempt.status) == (3, "succeeded")  # D+7 is the latest slot
    sub.refresh_from_db()
    assert sub.renewal_date == date(2027, 4, 21)


def test_invoice_auto_renewal_issues_an_invoice_on_d():
    user = UserFactory()
    sub = subscription(
        user,
        renewal_date=TODAY,
        auto_renew=True,
        purchase_method="invoice",
        payment_method="invoice",
    )
    run = daily.run_daily(TODAY)
    sub.refresh_from_db()
    assert sub.renewal_date == date(2027, 5, 1)
    order = Order.objects.get()
    # R9: renewed, and `invoiced` (never "paid") until its invoice is paid.
    assert (order.payment_method, order.status, order.automatic) == ("invoice", "invoiced", True)
    assert order.invoice.due_date == TODAY + timedelta(days=30)
    assert run.counts["charges"] == {"invoiced": 1}


def test_crash_mid_run_then_rerun_sends_nothing_twice_and_charges_nothing_twice(monkeypatch):
    users = [UserFactory() for _ in range(6)]
    for i, u in enumerate(users):
        subscription(u, renewal_date=TODAY + days(30))
        subscription(u, renewal_date=TODAY, auto_renew=True, declined=i % 2 == 0)
    real = daily.process_chunk
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("worker lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(daily, "process_chunk", crashing)
    with pytest.raises(RuntimeError):
        daily.run_daily(TODAY, chunk_size=1)
    assert DailyRun.objects.get().status == "running"
    monkeypatch.setattr(daily, "process_chunk", real)

    run = daily.run_daily(TODAY, chunk_size=1)

    assert run.status == "finished"
    assert ChargeAttempt.objects.count() == 6
    assert Order.objects.count() == 6
    assert Order.objects.filter(status="paid").count() == 3
    assert set(notices().values()) == {1}
    assert len(emails("renewal-reminder")) == 6
    assert len(emails("auto-renewal-failed")) == 3
    assert len(emails("subscription-expired")) == 3


def test_cost_follows_due_work_not_the_total(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        subscription(renewal_date=TODAY + days(45))

    def queries(day):
        with CaptureQueriesContext(connection) as ctx:
            daily.run_daily(day)
        return len(ctx.captured_queries)

    small = queries(TODAY)
    Notice.objects.all().delete()
    for n in range(60):
        subscription(renewal_date=TODAY + days(100 + n))
        subscription(renewal_date=TODAY - days(100 + n))
    DailyRun.objects.all().delete()
    from renewals.notifications.models import Email

    Email.objects.all().delete()
    assert queries(TODAY) == small


def test_daily_command_prints_what_it_did(capsys):
    subscription(renewal_date=TODAY + days(90))
    call_command("daily", "--date", "2026-05-01")
    out = capsys.readouterr().out
    assert "Daily run 2026-05-01" in out
    assert "renewal-available: 1 subscription(s), 1 email(s)" in out
    assert "automatic charges: none due" in out
    call_command("daily", "--date", "2026-05-01")
    assert "notices: none due" in capsys.readouterr().out


def test_daily_command_refuses_a_malformed_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a valid date"):
        call_command("daily", "--date", "2026-13-01")
    assert DailyRun.objects.count() == 0


def test_a_chunk_loads_the_related_rows_select_related_gives_built_once_each(
    django_assert_num_queries,
):
    from renewals.lifecycle.loading import RELATED
    from tests.factories import CardFactory, SubscriptionFactory

    def model_to_dict(obj):
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    marie, other = UserFactory(), UserFactory()
    card = CardFactory(user=marie)
    subs = [
        SubscriptionFactory(purchaser=marie, card=card),
        SubscriptionFactory(purchaser=marie, card=card),
        SubscriptionFactory(purchaser=other, payment_method=None, card=None),
        SubscriptionFactory(purchaser=other),
    ]
    ids = [s.pk for s in reversed(subs)]
    expected = list(Subscription.objects.filter(pk__in=ids).select_related(*RELATED))

    with django_assert_num_queries(5):  # the subscriptions, purchasers, offerings, cards, customers
        loaded = daily._load(ids)

    assert list(loaded) == [s.pk for s in expected]  # the model's order, as before
    with django_assert_num_queries(0):
        for want in expected:
            got = loaded[want.pk]
            assert model_to_dict(got) == model_to_dict(want)
            for name in RELATED:
                related, want_related = getattr(got, name), getattr(want, name)
                if want_related is None:
                    assert related is None
                else:
                    assert model_to_dict(related) == model_to_dict(want_related)
    assert loaded[subs[0].pk].purchaser is loaded[subs[1].pk].purchaser
    assert loaded[subs[0].pk].card is loaded[subs[1].pk].card


def test_the_run_works_without_the_cycle_collector_and_turns_it_back_on(monkeypatch):
    import gc

    subscription(renewal_date=TODAY + days(90))
    seen = []
    load = daily._load
    monkeypatch.setattr(daily, "_load", lambda ids: seen.append(gc.isenabled()) or load(ids))
    gc.enable()

    daily.run_daily(TODAY)

    assert seen == [False]
    assert gc.isenabled()

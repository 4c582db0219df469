"""The in-process scheduler of `renewals demo`, the worker/scheduler commands, and the fixed
statement count of a chunk's digests (R15, R16)."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from renewals.celery import app
from renewals.lifecycle import daily, in_process
from renewals.lifecycle.models import DailyRun, Notice
from renewals.notifications.models import Email
from tests.factories import UserFactory

from .helpers import subscription

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 1)


def test_scheduler_tick_runs_the_daily_run_once_per_date_and_sweeps_the_outbox(frozen_today):
    frozen_today(TODAY)
    subscription(renewal_date=TODAY + timedelta(days=4))

    last = in_process.tick()
    assert last == TODAY
    assert list(DailyRun.objects.values_list("business_date", flat=True)) == [TODAY]
    assert list(Email.objects.values_list("kind", "status")) == [("renewal-reminder", "sent")]

    assert in_process.tick(last) == TODAY  # same date: no second run
    assert DailyRun.objects.get().chunks_total == 1


@pytest.mark.parametrize("command", ["worker", "scheduler"])
def test_worker_and_scheduler_refuse_to_start_without_a_broker(command, settings):
    settings.BROKER_URL = ""
    with pytest.raises(CommandError, match="BROKER_URL is not set"):
        call_command(command)


def test_beat_schedule_runs_the_daily_run_and_the_outbox_sweep():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert tasks == {"lifecycle.daily_run", "notifications.deliver_due", "events.deliver_due"}
    assert app.conf.beat_schedule["deliver-due-emails"]["schedule"] == 60.0


def _queries_for_purchasers(n: int, day: date) -> int:
    for _ in range(n):
        user = UserFactory()
        subscription(user, renewal_date=day + timedelta(days=30))
        subscription(user, renewal_date=day)
    with CaptureQueriesContext(connection) as ctx:
        run = daily.run_daily(day)
    assert run.counts["emails"] == {"renewal-reminder": n, "subscription-expired": n}
    assert Notice.objects.filter(business_date=day).count() == 2 * n
    return len(ctx.captured_queries)


def test_a_chunk_sends_its_digests_in_a_fixed_number_of_statements():
    few = _queries_for_purchasers(2, TODAY)
    many = _queries_for_purchasers(20, TODAY + timedelta(days=1))
    assert many == few

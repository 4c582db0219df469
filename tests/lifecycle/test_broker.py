"""The daily run through a real Celery worker on Redis, against PostgreSQL (R16).

Run with: BROKER_TEST_URL=redis://127.0.0.1:6379/13 DATABASE_URL=postgres://…/r_x pytest -m broker
The worker is a subprocess on a queue of its own, pointed at the test database.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection

from renewals.celery import app
from renewals.checkout.models import Order
from renewals.lifecycle import daily
from renewals.lifecycle.models import ChargeAttempt, DailyRun, Notice
from renewals.notifications.models import Email
from tests.conftest import need
from tests.factories import UserFactory

from .helpers import subscription

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

TODAY = date(2026, 5, 1)
ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("BROKER_TEST_URL", "")


def _redis_reachable(url: str) -> bool:
    if not url:
        return False
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture
def worker_queue(transactional_db, settings):
    need(_redis_reachable(BROKER), "needs Redis: set BROKER_TEST_URL=redis://127.0.0.1:6379/13")
    need(connection.vendor == "postgresql", "needs PostgreSQL shared with the worker process")
    queue = f"lifecycle-test-{uuid.uuid4().hex[:8]}"
    settings.BROKER_URL = BROKER
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=BROKER, task_always_eager=False, task_default_queue=queue)
    _reset_pools()
    workers: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "BROKER_URL": BROKER,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_SETTINGS_MODULE": "renewals.settings",
        }
        env.pop("RENEWALS_TODAY", None)
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "renewals",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers.append(proc)
        return proc

    yield start
    for proc in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    app.conf.update(saved)
    _reset_pools()


def _reset_pools() -> None:
    """Drop the app's cached broker connections so the next publish uses the current URL."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def build(prefix: str, n_users: int = 4) -> None:
    """A small book: notices of every kind, charges that succeed and charges that fail."""
    for u in range(n_users):
        user = UserFactory(email=f"{prefix}{u}@example.com")
        for k, days in enumerate((90, 45, 30, 4, 0, -15, -45)):
            subscription(user, id=f"{prefix}-{u}-{k}", renewal_date=TODAY + timedelta(days=days))
        subscription(user, id=f"{prefix}-{u}-ok", renewal_date=TODAY, auto_renew=True)
        subscription(
            user, id=f"{prefix}-{u}-ko", renewal_date=TODAY, auto_renew=True, declined=True
        )


def snapshot(prefix: str) -> dict:
    """What the run did for one book, with the book's prefix removed."""

    def strip(sub_id: str) -> str:
        return sub_id.split("-", 1)[1]

    return {
        "notices": sorted(
            (strip(s), step)
            for s, step in Notice.objects.filter(subscription__id__startswith=prefix).values_list(
                "subscription_id", "step"
            )
        ),
        "charges": sorted(
            (strip(s), n, status)
            for s, n, status in ChargeAttempt.objects.filter(
                subscription__id__startswith=prefix
            ).values_list("subscription_id", "attempt", "status")
        ),
        "emails": sorted(
            Counter(
                (to.split("@")[0][len(prefix) :], kind)
                for to, kind in Email.objects.filter(to__startswith=prefix).values_list(
                    "to", "kind"
                )
            ).items()
        ),
        "orders": Order.objects.filter(lines__subscription__id__startswith=prefix).count(),
    }


def wait_finished(run_id: int, timeout: float = 90) -> DailyRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = DailyRun.objects.get(pk=run_id)
        if run.status == "finished":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run not finished in {timeout} s: {run.chunks_done}/{run.chunks_total}")


def test_worker_run_does_what_the_in_process_run_does(worker_queue, settings):
    build("IN")
    settings.BROKER_URL = ""
    daily.run_daily(TODAY, chunk_size=3)
    inline = snapshot("IN")

    build("BR")
    settings.BROKER_URL = BROKER
    worker_queue()
    run = daily.run_daily(TODAY, chunk_size=3, wait=False)
    run = wait_finished(run.pk)

    assert snapshot("BR") == inline
    assert inline["charges"] == sorted(
        [(f"{u}-ko", 0, "failed") for u in range(4)]
        + [(f"{u}-ok", 0, "succeeded") for u in range(4)]
    )
    assert run.counts["charges"] == {"succeeded": 4, "failed": 4}


def test_killing_the_worker_mid_run_then_rerunning_sends_and_charges_nothing_twice(worker_queue):
    build("KW", n_users=12)
    worker = worker_queue()
    run = daily.run_daily(TODAY, chunk_size=1, wait=False)
    deadline = time.monotonic() + 60
    while DailyRun.objects.get(pk=run.pk).chunks_done < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed_at = DailyRun.objects.get(pk=run.pk)
    assert 3 <= killed_at.chunks_done < killed_at.chunks_total
    assert killed_at.status == "running"

    worker_queue()
    rerun = daily.run_daily(TODAY, chunk_size=1, wait=False)
    wait_finished(rerun.pk)

    result = snapshot("KW")
    expected = {(f"{u}-{k}", step): 1 for u in range(12) for k, step in enumerate(STEPS)}
    expected.update({(f"{u}-ko", "subscription-expired"): 1 for u in range(12)})
    assert Counter(result["notices"]) == Counter(expected)
    assert result["charges"] == sorted(
        [(f"{u}-ok", 0, "succeeded") for u in range(12)]
        + [(f"{u}-ko", 0, "failed") for u in range(12)]
    )
    assert result["orders"] == 24
    assert {count for _key, count in result["emails"]} == {1}  # one email per purchaser & kind


STEPS = (
    "renewal-available",
    "renewal-reminder@D-45",
    "renewal-reminder@D-30",
    "renewal-reminder@D-4",
    "subscription-expired",
    "subscription-suspended",
    "subscription-cancelled",
)

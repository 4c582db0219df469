"""#20: /metrics tells an operator whether today's run happened and whether mail and money flow.
Prometheus text format; a staff token or an allowed address only (anyone else: 404)."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from renewals.api.tokens import create_token
from renewals.lifecycle.models import DailyRun
from renewals.notifications.models import Email
from renewals.operations.metrics import event_lag
from renewals.payments import actions
from renewals.payments.models import WebhookEvent
from tests.factories import UserFactory
from tests.payments.helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db


def staff_client():
    staff = UserFactory(is_staff=True)
    _token, raw = create_token(user=staff, name="prometheus")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample line `name{labels} value` of the exposition."""
    pattern = "^" + re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)$"
    found = re.findall(pattern, text, re.MULTILINE)
    assert len(found) == 1, f"{name}{labels}: {found}\n{text}"
    return float(found[0])


def email(n, status, attempts=0):
    return Email.objects.create(
        kind="test", dedupe_key=f"k{n}", to=f"p{n}@example.com", subject="s", text="t",
        message_id=f"<m{n}@x>", status=status, attempts=attempts,
    )  # fmt: skip


@pytest.mark.parametrize("who", ["anonymous", "customer token", "session of staff"])
def test_metrics_are_a_404_for_anyone_but_a_staff_token_or_an_allowed_address(who):
    client = Client()
    if who == "customer token":
        _t, raw = create_token(user=UserFactory(), name="x")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    elif who == "session of staff":
        client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics").status_code == 404


def test_an_allowed_network_reads_the_metrics_without_a_token(settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.168.1.2").get("/metrics").status_code == 404


def test_metrics_report_mail_money_webhooks_and_the_daily_run(
    frozen_today, django_assert_max_num_queries
):
    frozen_today(TODAY)
    subs = jpy_subscriptions(2)
    late = actions.start_payment(
        order_for(subs[:1], method="konbini", today=TODAY - timedelta(days=10)),
        method="konbini", user=subs[0].purchaser, today=TODAY - timedelta(days=10),
    )  # fmt: skip
    assert late.status == "pending" and late.expires_on < TODAY
    actions.start_payment(
        order_for(subs[1:], method="konbini"), method="konbini", user=subs[1].purchaser, today=TODAY
    )  # not past its deadline
    Email.objects.all().delete()  # the konbini instructions: counted below with known statuses
    email(1, "pending")
    email(2, "pending", attempts=2)
    email(3, "failed", attempts=7)
    email(4, "sent", attempts=1)
    sending = email(5, "pending", attempts=1)  # claimed by a sender: not sent yet
    Email.objects.filter(pk=sending.pk).update(
        status="sending", lease_until=timezone.now() + timedelta(minutes=5)
    )
    now = timezone.now()
    sent = (now - timedelta(seconds=42)).isoformat()
    WebhookEvent.objects.create(
        gateway="sandbox", event_id="evt_1", type="payment.succeeded",
        payload={"id": "evt_1", "created": sent}, processed=now,
    )  # fmt: skip
    DailyRun.objects.create(
        business_date=TODAY - timedelta(days=1), since=TODAY - timedelta(days=2), status="finished",
        finished=now,
    )  # fmt: skip
    run = DailyRun.objects.get()
    DailyRun.objects.filter(pk=run.pk).update(started=now - timedelta(seconds=90))
    client = staff_client()

    with django_assert_max_num_queries(12):
        response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.content.decode()
    assert sample(text, "renewals_outbox_backlog") == 3
    assert sample(text, "renewals_outbox_retrying") == 2
    assert sample(text, "renewals_emails_failed") == 1
    assert sample(text, "renewals_outbox_oldest_pending_age_seconds") >= 0
    assert sample(text, "renewals_payments_pending_past_deadline", 'method="konbini"') == 1
    assert 40 <= sample(text, "renewals_webhook_lag_seconds", 'stat="max"') < 120
    assert sample(text, "renewals_webhook_last_received_timestamp_seconds") > 0
    assert sample(text, "renewals_webhook_unprocessed") == 0
    assert sample(text, "renewals_daily_run_days_behind") == 1  # today's run has not happened
    day = (TODAY - timedelta(days=1)).isoformat()
    assert (
        sample(text, "renewals_daily_run_last_info", f'business_date="{day}",status="finished"')
        == 1
    )
    assert 89 <= sample(text, "renewals_daily_run_last_duration_seconds") <= 91
    for line in text.splitlines():  # every line is a comment or `name{labels} number`
        assert line.startswith("# ") or re.fullmatch(r"[a-z_]+(\{[^}]*\})? -?[0-9.e+]+", line), line


def test_no_run_yet_and_an_empty_outbox_read_as_zeros_and_minus_one(frozen_today):
    frozen_today(date(2027, 3, 1))
    text = staff_client().get("/metrics").content.decode()
    assert sample(text, "renewals_outbox_backlog") == 0
    assert sample(text, "renewals_payments_pending_past_deadline") == 0
    assert sample(text, "renewals_daily_run_days_behind") == -1
    assert "renewals_daily_run_last_info" not in text


@pytest.mark.parametrize(
    ("created", "lag"),
    [
        ("2026-12-01T10:00:00+00:00", 30.0),
        ("2026-12-01T10:00:00Z", 30.0),
        (1796119200, 30.0),  # Stripe: Unix seconds
        ("2026-12-01T10:01:00+00:00", 0.0),  # clocks apart: never negative
        ("not a date", None),
        (None, None),
    ],
)
def test_webhook_lag_reads_both_gateways_event_times(created, lag):
    from datetime import UTC, datetime

    received = datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC)
    assert event_lag(received, {"created": created}) == lag


def test_events_waiting_for_delivery_are_counted_with_the_oldest_age(frozen_today):
    from renewals.events.models import Delivery, Endpoint, Event

    frozen_today(TODAY)
    endpoint = Endpoint.objects.create(url="https://erp.example.com/hook", secret="s")
    old = timezone.now() - timedelta(minutes=30)
    for n, state in enumerate(["pending", "pending", "delivered"]):
        event = Event.objects.create(type="subscription.renewed", data={"n": n})
        Delivery.objects.create(endpoint=endpoint, event=event, state=state, created=old)
    text = staff_client().get("/metrics").content.decode()
    assert sample(text, "renewals_events_waiting_for_delivery") == 2
    assert 1790 <= sample(text, "renewals_events_oldest_waiting_age_seconds") < 1900

"""`GET /metrics`: what an operator watches, in the Prometheus text format (version 0.0.4).

Whether today's daily run happened, whether mail and money are flowing: the outbox backlog and
its oldest email, failed emails, pending payments past their deadline, webhook arrival and lag,
the last daily run (business date, status, duration, days behind), events waiting for delivery
to the vendor's endpoints.
One aggregate query per figure, read when scraped (no state kept in the process, so every
gunicorn worker answers the same).

Only for a staff user's API token (`Authorization: Bearer ...`) or a request from an address in
METRICS_ALLOWED_IPS (a Prometheus on the private network scraping the server's bind address
directly; the reverse proxy must not forward /metrics, docs/deploy.md). Anyone else gets 404.
"""

import ipaddress
from datetime import UTC, datetime, time

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.http import Http404, HttpResponse

from renewals.core import clock
from renewals.core.client_ip import client_ip

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WEBHOOK_LAG_SAMPLE = 100  # the most recent events the lag is measured over


def allowed(request) -> bool:
    """A staff user's bearer token, or a client address in METRICS_ALLOWED_IPS."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        from renewals.api.tokens import authenticate

        token = authenticate(header.removeprefix("Bearer ").strip())
        return bool(token and token.user.is_staff)
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in allowed_networks())


def allowed_networks() -> list:
    networks = []
    for item in settings.METRICS_ALLOWED_IPS:
        networks.append(ipaddress.ip_network(item, strict=False))
    return networks


def metrics(request):
    if not allowed(request):
        raise Http404
    return HttpResponse(render(collect(clock.today(), clock.now())), content_type=CONTENT_TYPE)


def collect(today, now) -> list[tuple[str, str, str, list[tuple[dict, float]]]]:
    """Every metric as (name, type, help, [(labels, value)])."""
    return [
        *outbox_metrics(now),
        *payment_metrics(today),
        *webhook_metrics(now),
        *daily_run_metrics(today),
        *event_metrics(now),
    ]


def outbox_metrics(now):
    from renewals.notifications.models import Email

    unsent = Q(status__in=["pending", "sending"])  # sending: claimed by a sender, in flight
    row = Email.objects.aggregate(
        pending=Count("id", filter=unsent),
        retrying=Count("id", filter=unsent & Q(attempts__gt=0)),
        failed=Count("id", filter=Q(status="failed")),
        oldest=Min("created", filter=unsent),
    )
    oldest_age = (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0
    return [
        ("renewals_outbox_backlog", "gauge",
         "Emails in the outbox not sent yet (pending or being sent, retries included).",
         [({}, row["pending"])]),
        ("renewals_outbox_retrying", "gauge",
         "Pending emails whose delivery already failed at least once (being retried).",
         [({}, row["retrying"])]),
        ("renewals_outbox_oldest_pending_age_seconds", "gauge",
         "Age of the oldest email not sent yet (0 when none).", [({}, oldest_age)]),
        ("renewals_emails_failed", "gauge",
         "Emails given up (status failed: refused permanently EMAIL_MAX_REFUSALS times, or not "
         "delivered within EMAIL_MAX_AGE_HOURS): nobody received them.",
         [({}, row["failed"])]),
    ]  # fmt: skip


def payment_metrics(today):
    from renewals.payments.models import FINAL_STATUSES, CustomerFunds, Payment

    rows = (
        Payment.objects.exclude(status__in=FINAL_STATUSES)
        .filter(expires_on__lt=today)
        .values("method")
        .annotate(n=Count("id"))
        .order_by("method")
    )
    samples = [({"method": r["method"]}, r["n"]) for r in rows] or [({}, 0)]
    return [
        ("renewals_payments_pending_past_deadline", "gauge",
         "Payments not settled whose deadline (expires_on) is before today's business date: the "
         "daily run should have expired or confirmed them.", samples),
        ("renewals_customer_funds_needing_staff", "gauge",
         "Customer funds flagged for staff (Admin > Customer funds) and not resolved yet.",
         [({}, CustomerFunds.objects.filter(status="flagged").count())]),
    ]  # fmt: skip


def webhook_metrics(now):
    from renewals.payments.models import WebhookEvent

    row = WebhookEvent.objects.aggregate(
        last=Max("received"), unprocessed=Count("id", filter=Q(processed__isnull=True))
    )
    recent = WebhookEvent.objects.order_by("-received").values_list("received", "payload")[
        :WEBHOOK_LAG_SAMPLE
    ]
    lags = [
        lag for received, payload in recent if (lag := event_lag(received, payload)) is not None
    ]
    last = row["last"].timestamp() if row["last"] else 0.0
    return [
        ("renewals_webhook_last_received_timestamp_seconds", "gauge",
         "When the last gateway webhook arrived (Unix time; 0 when none yet).", [({}, last)]),
        ("renewals_webhook_lag_seconds", "gauge",
         f"Seconds from the gateway's event time to its arrival here, over the last "
         f"{WEBHOOK_LAG_SAMPLE} events.",
         [({"stat": "max"}, max(lags, default=0.0)),
          ({"stat": "last"}, lags[0] if lags else 0.0)]),
        ("renewals_webhook_unprocessed", "gauge",
         "Stored webhook events not processed (should stay 0).", [({}, row["unprocessed"])]),
    ]  # fmt: skip


def event_lag(received, payload) -> float | None:
    """The gateway's event time ("created": Unix seconds from Stripe, ISO from the sandbox)."""
    created = payload.get("created") if isinstance(payload, dict) else None
    try:
        if isinstance(created, int | float):
            sent = datetime.fromtimestamp(created, UTC)
        elif isinstance(created, str):
            sent = datetime.fromisoformat(created.replace("Z", "+00:00"))
            sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return max(0.0, (received - sent).total_seconds())


def daily_run_metrics(today):
    from renewals.lifecycle.models import DailyRun

    last = DailyRun.objects.order_by("-business_date").first()
    finished = DailyRun.objects.filter(status="finished").aggregate(day=Max("business_date"))
    metrics = [
        ("renewals_daily_run_days_behind", "gauge",
         "Business days since the last finished daily run (0: today's run happened).",
         [({}, (today - finished["day"]).days if finished["day"] else -1)]),
    ]  # fmt: skip
    if last is None:
        return metrics
    midnight = datetime.combine(last.business_date, time(), UTC).timestamp()
    duration = (last.finished - last.started).total_seconds() if last.finished else 0.0
    return [
        *metrics,
        ("renewals_daily_run_last_business_date_timestamp_seconds", "gauge",
         "Business date of the last daily run (Unix time of its midnight UTC).",
         [({}, midnight)]),
        ("renewals_daily_run_last_info", "gauge", "The last daily run: its date and status.",
         [({"business_date": last.business_date.isoformat(), "status": last.status}, 1)]),
        ("renewals_daily_run_last_duration_seconds", "gauge",
         "Duration of the last daily run (0 while it runs).", [({}, duration)]),
        ("renewals_daily_run_last_finished_timestamp_seconds", "gauge",
         "When the last daily run finished (Unix time; 0 while it runs).",
         [({}, last.finished.timestamp() if last.finished else 0.0)]),
    ]  # fmt: skip


def event_metrics(now):
    """Events waiting for delivery to the vendor's endpoints (R22, renewals/events)."""
    from renewals.events.deliveries import waiting_for_delivery
    from renewals.events.models import Delivery

    oldest = Delivery.objects.filter(state="pending").aggregate(at=Min("created"))["at"]
    return [
        ("renewals_events_waiting_for_delivery", "gauge",
         "Deliveries of events to the vendor's endpoints not acknowledged (2xx) yet.",
         [({}, waiting_for_delivery())]),
        ("renewals_events_oldest_waiting_age_seconds", "gauge",
         "Age of the oldest delivery still waiting (0 when none).",
         [({}, (now - oldest).total_seconds() if oldest else 0.0)]),
    ]  # fmt: skip


def render(metrics) -> str:
    lines = []
    for name, kind, help_text, samples in metrics:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            label_text = ",".join(f'{k}="{escape(str(v))}"' for k, v in labels.items())
            lines.append(f"{name}{{{label_text}}} {number(value)}" if labels else
                         f"{name} {number(value)}")  # fmt: skip
    return "\n".join(lines) + "\n"


def escape(value: str) -> str:
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def number(value) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value))

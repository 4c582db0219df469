"""Queue emails into the outbox and deliver them, at least once and almost always once (R13, R15).

Queueing is a row with a unique dedupe key (repeating it is harmless). Delivery runs after the
transaction commits — through the broker, or without one on a background thread of the web
process (`notifications.background`), never inside the request — and goes:

1. **claim** (a transaction): the row becomes `sending` with a lease (`EMAIL_LEASE_SECONDS`),
   its attempt counted and its next retry time set; nobody else sends a leased row;
2. **send** (no transaction): the SMTP conversation, with the row's own Message-ID;
3. **record** (a transaction): `sent`; or back to `pending` for a retry after
   `EMAIL_RETRY_DELAYS` (4xx, time-out, server down); or `failed` once the server refused it
   permanently (5xx, every recipient refused) `EMAIL_MAX_REFUSALS` times, or once it is older than
   `EMAIL_MAX_AGE_HOURS`.

A sender that dies between 1 and 3 leaves a `sending` row whose lease expires; the next sweep
sends it again with the same Message-ID. That — and an SMTP server that accepted the message but
answered after the time-out — are the two ways an email can arrive twice: delivery is
at-least-once, and the repeated Message-ID lets mail clients show it once.
"""

import logging
import re
import smtplib
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template import Context
from django.template.loader import get_template
from django.utils import translation

from renewals.core import clock
from renewals.core.inserts import insert_once

from . import frames
from .models import Email

log = logging.getLogger(__name__)

LINE_BREAKS = re.compile(r"[ \t\r\n\f\v]+")


def render_email(kind: str, language: str, context: dict) -> tuple[str, str, str]:
    """Render the subject, text and HTML of an email kind in a language."""
    values = {**context, "language": language, "portal_url": settings.PORTAL_BASE_URL}
    with translation.override(language):
        if frames.is_digest(context):
            # The daily run's thousands of digests: each part's frame rendered once (#15).
            subject, text, html = (
                frames.render(f"emails/{kind}{part}", values)
                for part in (".subject.txt", ".txt", ".html")
            )
            subject = subject.strip()
        else:
            # Plain text is not HTML: a name like "O'Brien & Sons" is printed as it is there,
            # escaped only in the HTML part.
            plain = Context(values, autoescape=False)  # one context for the two text parts
            subject = _template(f"emails/{kind}.subject.txt").render(plain).strip()
            text = _template(f"emails/{kind}.txt").render(plain)
            html = _template(f"emails/{kind}.html").render(Context(values))
    # One line; the no-break spaces of French typography stay (str.split would take them).
    return LINE_BREAKS.sub(" ", subject).strip(), text, html


def _template(name: str):
    """The compiled template (the engine's cached loader compiles each template once)."""
    return get_template(name).template


def max_age() -> timedelta:
    return timedelta(hours=float(getattr(settings, "EMAIL_MAX_AGE_HOURS", 72)))


def _new_email(
    *, kind: str, to: str, language: str, context: dict, dedupe_key: str, headers=None
) -> Email:
    """Render an email kind in a language into an unsaved outbox row."""
    subject, text, html = render_email(kind, language, context)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "localhost"
    return Email(
        kind=kind,
        dedupe_key=dedupe_key,
        to=to,
        language=language,
        subject=subject,
        text=text,
        html=html,
        headers={"X-Renewals-Event": kind, **(headers or {})},
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        expires=clock.now() + max_age(),
    )


def queue_email(
    *, kind: str, to: str, language: str, context: dict, dedupe_key: str, headers=None
) -> Email:
    """Put one email in the outbox (idempotent by `dedupe_key`) and deliver it after commit.

    One statement for a new email (#15): the row is inserted unless its key is taken (SQLite
    >= 3.35 for RETURNING); a taken key costs a second, the read of the row holding it. A repeated key renders its email for nothing: the callers repeat
    one rarely (a fulfilment reported twice stops at the order's status before this).
    """
    email = _new_email(
        kind=kind,
        to=to,
        language=language,
        context=context,
        dedupe_key=dedupe_key,
        headers=headers,
    )
    if not insert_once(email, "dedupe_key"):
        return Email.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(lambda: deliver_later([email.pk]))
    return email


def queue_emails(specs: list[dict]) -> list[Email]:
    """Queue many emails at once (the daily run's digests): one lookup, one INSERT.

    Each spec holds the keyword arguments of `queue_email`. Keys already queued return their
    existing row; if a concurrent writer takes a key meanwhile, this falls back to one by one.
    """
    if not specs:
        return []
    keys = [spec["dedupe_key"] for spec in specs]
    existing = {e.dedupe_key: e for e in Email.objects.filter(dedupe_key__any=keys)}
    new = [_new_email(**spec) for spec in specs if spec["dedupe_key"] not in existing]
    try:
        with transaction.atomic():
            created = Email.objects.bulk_create(new)
    except IntegrityError:
        return [queue_email(**spec) for spec in specs]
    ids = [e.pk for e in created]
    transaction.on_commit(lambda: deliver_later(ids))
    by_key = {**existing, **{e.dedupe_key: e for e in created}}
    return [by_key[key] for key in keys]


def deliver_later(ids: list[int]) -> None:
    """Hand committed emails to their sender: the broker, the background thread, or inline.

    `EMAIL_DELIVERY = "inline"` delivers right here (the test suite, scripts); otherwise,
    without a broker, the web process's background thread sends after the response.
    """
    if settings.BROKER_URL:
        from .jobs import deliver_email

        for email_id in ids:
            try:
                deliver_email.delay(email_id)
            except Exception:  # broker down: the periodic sweep delivers it later
                log.exception("could not enqueue delivery of email %s", email_id)
        return
    if getattr(settings, "EMAIL_DELIVERY", "background") == "inline":
        for email_id in ids:
            deliver(email_id)
        return
    from . import background

    background.submit(ids)


def deliver(email_id: int, now=None) -> str:
    """Claim, send and record one outbox email if it is due; return its status afterwards.

    A row another sender holds (`sending`, lease not expired) is left alone and answers
    "sending"; a row whose lease expired is taken over (its sender died) and sent again.
    """
    now = now or clock.now()
    claimed = _claim(email_id, now)
    if isinstance(claimed, str):
        return claimed
    error, permanent = _send(claimed)
    return _record(claimed, error, permanent, now)


def _claim(email_id: int, now) -> Email | str:
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return "missing"
        if email.status == "sending" and email.lease_until and email.lease_until > now:
            return "sending"
        if email.status not in ("pending", "sending"):
            return email.status
        if email.status == "pending" and email.next_attempt and email.next_attempt > now:
            return "pending"
        if email.expires and email.expires <= now:
            email.status = "failed"
            email.lease_until = None
            email.last_error = _joined(
                email.last_error, f"not delivered within {max_age()} (EMAIL_MAX_AGE_HOURS)"
            )
            email.save(update_fields=["status", "lease_until", "last_error"])
            log.warning("email %s given up: older than its maximum age", email.pk)
            return "failed"
        if email.status == "sending":
            email.last_error = _joined(
                email.last_error, "its sender stopped before recording the result (lease expired)"
            )
        email.status = "sending"
        email.attempts += 1
        email.lease_until = now + timedelta(seconds=lease_seconds())
        email.next_attempt = now + timedelta(seconds=_delay(email.attempts))
        email.save(
            update_fields=["status", "attempts", "lease_until", "next_attempt", "last_error"]
        )
    return email


def _send(email: Email) -> tuple[str, bool]:
    """Talk to the SMTP server; return ("", False) when accepted, else (error, permanent)."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={**email.headers, "Message-ID": email.message_id},
        connection=get_connection(),
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    try:
        message.send()
    except Exception as exc:  # refused, timed out, down: classified, never lost
        return f"{type(exc).__name__}: {exc}"[:2000], is_permanent(exc)
    return "", False


def is_permanent(exc: Exception) -> bool:
    """A 5xx answer, or every recipient refused with a 5xx: retrying will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _record(email: Email, error: str, permanent: bool, now) -> str:
    mine = Email.objects.filter(pk=email.pk, status="sending", attempts=email.attempts)
    if not error:
        # Sent is the truth even if a slow claim was taken over meanwhile.
        Email.objects.filter(pk=email.pk).exclude(status="sent").update(
            status="sent", sent=clock.now(), last_error="", lease_until=None
        )
        return "sent"
    refusals = email.refusals + (1 if permanent else 0)
    failed = permanent and refusals >= max_refusals()
    mine.update(
        status="failed" if failed else "pending",
        refusals=refusals,
        lease_until=None,
        last_error=error,
    )
    log.warning(
        "email %s not delivered (attempt %s%s): %s",
        email.pk,
        email.attempts,
        ", permanently refused" if permanent else "",
        error,
    )
    return "failed" if failed else "pending"


def _joined(previous: str, reason: str) -> str:
    return f"{previous} | {reason}"[:2000] if previous else reason


def lease_seconds() -> int:
    return int(getattr(settings, "EMAIL_LEASE_SECONDS", 300))


def max_refusals() -> int:
    return int(getattr(settings, "EMAIL_MAX_REFUSALS", 3))


def _delay(attempts: int) -> int:
    delays = settings.EMAIL_RETRY_DELAYS
    return delays[min(attempts, len(delays)) - 1]


def due_emails(now=None):
    """Return the ids of emails to try now: pending and due, or leased by a sender that died."""
    now = now or clock.now()
    due = Q(status="pending") & (Q(next_attempt__isnull=True) | Q(next_attempt__lte=now))
    abandoned = Q(status="sending", lease_until__lte=now)
    return list(
        Email.objects.filter(due | abandoned).order_by("id").values_list("pk", flat=True)[:1000]
    )


def deliver_due(now=None) -> dict:
    """Deliver every due email (the periodic sweep); return counts by result."""
    counts: dict[str, int] = {}
    for email_id in due_emails(now):
        result = deliver(email_id, now)
        counts[result] = counts.get(result, 0) + 1
    return counts


def retry(emails, *, actor=None) -> int:
    """Staff: send failed or waiting emails again now, with a fresh maximum age (admin action)."""
    from renewals.core import audit

    rows = list(emails.filter(status__in=["failed", "pending"]))
    now = clock.now()
    ids = [e.pk for e in rows]
    Email.objects.filter(pk__in=ids, status__in=["failed", "pending"]).update(
        status="pending", next_attempt=None, refusals=0, expires=now + max_age()
    )
    audit.record_many(rows, action="email_retry", actor=actor)
    transaction.on_commit(lambda: deliver_later(ids))
    return len(ids)


def stop(emails, *, actor=None) -> int:
    """Staff: never send these waiting emails (admin action); a send in flight may still land."""
    from renewals.core import audit

    rows = list(emails.filter(status__in=["pending", "sending"]))
    who = getattr(actor, "email", "") or "staff"
    for email in rows:
        Email.objects.filter(pk=email.pk, status__in=["pending", "sending"]).update(
            status="failed",
            lease_until=None,
            last_error=_joined(email.last_error, f"stopped by {who}"),
        )
    audit.record_many(rows, action="email_stopped", actor=actor)
    return len(rows)

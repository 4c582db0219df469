"""Queue emails into the outbox and deliver them, each exactly once (R13, R15).

Queueing is a row with a unique dedupe key (repeating it is harmless); delivery runs after the
transaction commits, claims the row, sends, and records the result. A failed delivery is retried
with backoff (settings.EMAIL_RETRY_DELAYS) and never lost.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Email

log = logging.getLogger(__name__)


def render_email(kind: str, language: str, context: dict) -> tuple[str, str, str]:
    """Render the subject, text and HTML of an email kind in a language."""
    with translation.override(language):
        context = {**context, "language": language, "portal_url": settings.PORTAL_BASE_URL}
        subject = render_to_string(f"emails/{kind}.subject.txt", context).strip()
        text = render_to_string(f"emails/{kind}.txt", context)
        html = render_to_string(f"emails/{kind}.html", context)
    return " ".join(subject.split()), text, html


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
    )


def queue_email(
    *, kind: str, to: str, language: str, context: dict, dedupe_key: str, headers=None
) -> Email:
    """Put one email in the outbox (idempotent by `dedupe_key`) and deliver it after commit."""
    existing = Email.objects.filter(dedupe_key=dedupe_key).first()
    if existing:
        return existing
    email = _new_email(
        kind=kind,
        to=to,
        language=language,
        context=context,
        dedupe_key=dedupe_key,
        headers=headers,
    )
    try:
        with transaction.atomic():
            email.save(force_insert=True)
    except IntegrityError:
        return Email.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(lambda: _enqueue_delivery(email.pk))
    return email


def queue_emails(specs: list[dict]) -> list[Email]:
    """Queue many emails at once (the daily run's digests): one lookup, one INSERT.

    Each spec holds the keyword arguments of `queue_email`. Keys already queued return their
    existing row; if a concurrent writer takes a key meanwhile, this falls back to one by one.
    """
    if not specs:
        return []
    keys = [spec["dedupe_key"] for spec in specs]
    existing = {e.dedupe_key: e for e in Email.objects.filter(dedupe_key__in=keys)}
    new = [_new_email(**spec) for spec in specs if spec["dedupe_key"] not in existing]
    try:
        with transaction.atomic():
            created = Email.objects.bulk_create(new)
    except IntegrityError:
        return [queue_email(**spec) for spec in specs]
    ids = [e.pk for e in created]
    transaction.on_commit(lambda: [_enqueue_delivery(pk) for pk in ids])
    by_key = {**existing, **{e.dedupe_key: e for e in created}}
    return [by_key[key] for key in keys]


def _enqueue_delivery(email_id: int) -> None:
    from .jobs import deliver_email

    try:
        deliver_email.delay(email_id)
    except Exception:  # broker down: the periodic sweep delivers it later
        log.exception("could not enqueue delivery of email %s", email_id)


def deliver(email_id: int, now=None) -> str:
    """Send one outbox email if it is still due; return its status afterwards.

    The row is claimed by bumping its next attempt under a lock, so two workers never send the
    same email; the SMTP call happens outside any transaction. A refusal (e.g. SMTP 451) keeps
    it pending until its next attempt, each delay longer (settings.EMAIL_RETRY_DELAYS).
    """
    now = now or timezone.now()
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != "pending":
            return email.status if email else "missing"
        if email.next_attempt and email.next_attempt > now:
            return "pending"
        email.attempts += 1
        email.next_attempt = now + timedelta(seconds=_delay(email.attempts))
        email.save(update_fields=["attempts", "next_attempt"])
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
    except Exception as exc:  # SMTP refused, timed out, …: keep the row pending for a retry
        Email.objects.filter(pk=email.pk).update(last_error=f"{type(exc).__name__}: {exc}"[:2000])
        log.warning("email %s not delivered (attempt %s): %s", email.pk, email.attempts, exc)
        return "pending"
    Email.objects.filter(pk=email.pk).update(status="sent", sent=timezone.now(), last_error="")
    return "sent"


def _delay(attempts: int) -> int:
    delays = settings.EMAIL_RETRY_DELAYS
    return delays[min(attempts, len(delays)) - 1]


def due_emails(now=None):
    """Return the ids of pending emails whose next attempt is due."""
    now = now or timezone.now()
    return list(
        Email.objects.filter(status="pending")
        .exclude(next_attempt__gt=now)
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )


def deliver_due(now=None) -> dict:
    """Deliver every due pending email (the periodic sweep); return counts by result."""
    counts: dict[str, int] = {}
    for email_id in due_emails(now):
        result = deliver(email_id, now)
        counts[result] = counts.get(result, 0) + 1
    return counts

"""Background jobs of the outbox."""

from celery import shared_task

import renewals.celery  # noqa: F401 — the configured app is the current one for these tasks

from . import outbox


@shared_task(name="notifications.deliver_email")
def deliver_email(email_id: int) -> str:
    return outbox.deliver(email_id)


@shared_task(name="notifications.deliver_due")
def deliver_due() -> dict:
    return outbox.deliver_due()

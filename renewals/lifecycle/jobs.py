"""Background jobs of the daily run (R16): the beat entry point and the chunk workers."""

from celery import shared_task

import renewals.celery  # noqa: F401 — the configured app is the current one for these tasks
from renewals.core import clock
from renewals.core.clock import parse_date

from . import daily
from .models import DailyRun


@shared_task(name="lifecycle.daily_run")
def daily_run_job(business_date: str | None = None) -> dict:
    """Start the daily run of a date (default: today) and dispatch its chunks to the workers."""
    today = parse_date(business_date) if business_date else clock.today()
    run = daily.run_daily(today, wait=False)
    return {"run": run.pk, "chunks": run.chunks_total}


@shared_task(
    bind=True,
    name="lifecycle.process_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
)
def process_chunk_job(self, run_id: int, invocation: str, index: int, ids: list[str]) -> dict:
    """Process one chunk of a run; safe to redeliver after a worker died (claims are unique rows).

    An error is retried with backoff; after the last retry the run is marked failed, so whoever
    waits for it stops waiting (a re-run then does what is left).
    """
    run = DailyRun.objects.get(pk=run_id)
    try:
        result = daily.process_chunk(run.business_date, run.since, ids)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            DailyRun.objects.filter(pk=run_id).update(status="failed")
            raise
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc
    daily.record_chunk(run_id, invocation, index, result)
    return result

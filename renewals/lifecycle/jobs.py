"""Background jobs of the daily run (R16): the beat entry point and the chunk workers."""

from celery import shared_task

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


@shared_task(name="lifecycle.process_chunk", acks_late=True, reject_on_worker_lost=True)
def process_chunk_job(run_id: int, invocation: str, index: int, ids: list[str]) -> dict:
    """Process one chunk of a run; safe to redeliver after a worker died (claims are unique rows)."""
    run = DailyRun.objects.get(pk=run_id)
    result = daily.process_chunk(run.business_date, run.since, ids)
    daily.record_chunk(run_id, invocation, index, result)
    return result

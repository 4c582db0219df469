"""Periodic work without a broker (`renewals demo`): a daemon thread in the web process.

It runs the daily run of today when the business date changes (and once at start), and sweeps
the email outbox every minute. Both are idempotent, so a restart or a second process is
harmless; production deployments use `renewals scheduler` (Celery beat) and workers instead.
"""

import logging
import threading

from django.db import close_old_connections

from renewals.core import clock
from renewals.events import deliveries
from renewals.notifications import outbox

from . import daily

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60
_started: threading.Thread | None = None
_lock = threading.Lock()


def tick(last_run_date=None):
    """Do one round of periodic work; return the business date the daily run last ran for."""
    today = clock.today()
    try:
        if today != last_run_date:
            run = daily.run_daily(today)
            log.info("daily run %s: %s", today, run.counts)
            last_run_date = today
        outbox.deliver_due()
        deliveries.deliver_due()
    except Exception:  # keep the thread alive: the next tick retries (both steps are idempotent)
        log.exception("periodic work failed")
    return last_run_date


def _loop(stop: threading.Event, interval: float) -> None:
    last = None
    while not stop.is_set():
        close_old_connections()  # the thread's own connection: drop it if stale or broken
        last = tick(last)
        close_old_connections()
        stop.wait(interval)


def start_in_process(interval: float = SWEEP_SECONDS) -> threading.Event:
    """Start the periodic work in a daemon thread (once per process); return its stop event."""
    global _started
    with _lock:
        stop = threading.Event()
        if _started is not None and _started.is_alive():
            return getattr(_started, "stop_event", stop)
        thread = threading.Thread(
            target=_loop, args=(stop, interval), name="renewals-scheduler", daemon=True
        )
        thread.stop_event = stop
        thread.start()
        _started = thread
        return stop

"""Email delivery without a broker: a background thread of the process, after the response.

`outbox.deliver_later` hands it the ids of committed emails; the thread sends them one by one
on its own database connection, so a slow or dead SMTP server never slows the request that
queued them (a checkout answers at once). While idle it also sweeps the outbox every
`EMAIL_SWEEP_SECONDS` — retries whose time came, rows whose sender died — so a web process
without a broker retries by itself. Nothing is lost if the process stops: the rows stay
`pending` and the next sweep (this thread in any process, `renewals outbox`, `renewals daily`,
or the broker's minute task) sends them. Several processes sweeping at once are safe: each
email is claimed with a lease before it is sent.
"""

import logging
import queue
import threading
import time

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)

_queue: "queue.Queue[int]" = queue.Queue()
_thread: threading.Thread | None = None
_lock = threading.Lock()
_stop = threading.Event()
_busy = threading.Lock()  # held while the thread delivers: an email or a sweep
_WAKE = -1  # put by stop(): wakes the thread so it sees the stop event


def sweep_seconds() -> float:
    return float(getattr(settings, "EMAIL_SWEEP_SECONDS", 60))


def submit(ids) -> None:
    """Queue email ids for the background sender, starting it if needed."""
    start()
    for email_id in ids:
        _queue.put(email_id)


def start() -> None:
    """Start the background sender of this process (once)."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _stop.clear()
        _thread = threading.Thread(target=_loop, name="renewals-outbox", daemon=True)
        _thread.start()


def _loop() -> None:
    from . import outbox

    while not _stop.is_set():
        try:
            email_id = _queue.get(timeout=sweep_seconds())
        except queue.Empty:
            email_id = None
        if email_id == _WAKE:
            _queue.task_done()
            continue
        try:
            with _busy:
                close_old_connections()
                if email_id is None:
                    outbox.deliver_due()
                else:
                    outbox.deliver(email_id)
        except Exception:  # keep the sender alive; the row stays pending for the next sweep
            log.exception("background email delivery failed")
        finally:
            close_old_connections()
            if email_id is not None:
                _queue.task_done()


def drain(timeout: float = 60) -> bool:
    """Wait until every submitted email was tried and a sweep under way has ended (commands
    call it before they exit: an email cut off mid-send would go again after its lease, and a
    second time if the server had taken it). Return whether that happened within `timeout`."""
    if _thread is None or not _thread.is_alive():
        return True
    deadline = time.monotonic() + timeout
    done = threading.Event()

    def wait():
        _queue.join()
        done.set()

    threading.Thread(target=wait, daemon=True).start()
    if not done.wait(timeout):
        return False
    if not _busy.acquire(timeout=max(0.0, deadline - time.monotonic())):
        return False
    _busy.release()
    return True


def stop(timeout: float = 10) -> None:
    """Stop the background sender (tests)."""
    global _thread
    _stop.set()
    _queue.put(_WAKE)
    if _thread is not None:
        _thread.join(timeout)
    _thread = None

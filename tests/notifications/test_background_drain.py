"""`background.drain` waits for a sweep under way, not only for the submitted emails."""

import threading
import time

from renewals.notifications import background, outbox


def test_drain_waits_for_a_sweep_under_way(settings, monkeypatch):
    """Found in review: a one-shot command's exit could cut a sweep off mid-send."""
    settings.EMAIL_SWEEP_SECONDS = 0.05
    sweeping, finished = threading.Event(), []

    def slow_sweep():
        sweeping.set()
        time.sleep(0.5)
        finished.append(time.monotonic())

    monkeypatch.setattr(outbox, "deliver_due", slow_sweep)
    monkeypatch.setattr(background, "close_old_connections", lambda: None)
    background.start()
    try:
        assert sweeping.wait(5)
        assert background.drain(timeout=5)
        returned = time.monotonic()
        assert finished and finished[0] <= returned
    finally:
        monkeypatch.setattr(outbox, "deliver_due", lambda: None)
        background.stop()


def test_drain_says_when_the_sweep_outlasts_its_timeout(settings, monkeypatch):
    settings.EMAIL_SWEEP_SECONDS = 0.05
    sweeping, release = threading.Event(), threading.Event()

    def stuck_sweep():
        sweeping.set()
        release.wait(5)

    monkeypatch.setattr(outbox, "deliver_due", stuck_sweep)
    monkeypatch.setattr(background, "close_old_connections", lambda: None)
    background.start()
    try:
        assert sweeping.wait(5)
        assert background.drain(timeout=0.2) is False
    finally:
        release.set()
        monkeypatch.setattr(outbox, "deliver_due", lambda: None)
        background.stop()
